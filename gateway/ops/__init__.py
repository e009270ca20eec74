"""Running the center: jobs that look after the data (retention), and later metrics and reports.

Modules:

- ``retention``  Retention: closed conversations older than ``--retention-days`` are deleted, with their recordings.
"""
