"""Word contracts and quotations generated from deals (issue #4)."""
