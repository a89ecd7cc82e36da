"""The TMS invoicing domain: partners, documents, numbering, coding, workflow tasks, PDFs. Knows nothing of any accounting package."""
