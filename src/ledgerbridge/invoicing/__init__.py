"""The TMS invoicing domain: partners, documents, numbering, coding, workflow, PDFs.

Knows nothing of any accounting package.
"""
