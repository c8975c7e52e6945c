"""Mail-merge campaigns: preview, send exactly once per recipient, resume (issue #4)."""
