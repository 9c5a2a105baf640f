"""Personal data as the law asks (issue 25, POPIA and Algeria's law 18-07): corrections kept, a person's data
exported, erasure that keeps what a legal hold keeps, retention, the access log, and the institution's records."""
