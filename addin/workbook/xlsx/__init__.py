"""The OOXML package layer of the file backend: parts, lossless patches, the ZIP writer."""
