"""Invoice, statement and credit memo PDFs, and their short-lived signed download links (issue 19)."""
