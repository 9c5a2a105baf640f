"""Register documents: session and cohort attendance registers as PDF, XLSX and CSV, built in the
background, reused while their data is unchanged, verifiable by reference, and submitted frozen.

data.py (what a document shows, and its version) · layout.py (fixed pages) · render.py (HTML, words and
numbers in the document's language) · pdf.py (WeasyPrint, tagged join) · render_processes.py (page runs of
long documents on child processes) · exports.py (CSV, XLSX) · service.py (request, build, read) ·
verification.py · submissions.py
"""
