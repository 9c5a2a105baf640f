"""Institution seals (issue 22): every PDF the product issues is sealed last, after the tagged join, with a
PAdES signature by its institution's seal (pyHanko), and /verify says in words whether a file is sealed by that
institution and unchanged.

keys.py: the private keys' encryption at rest · certificates.py: making, reading and checking certificates
(generated or uploaded as PKCS#12) · service.py: the seal in force per institution and its history ·
sealing.py: the seal applied to a PDF · checking.py: an uploaded PDF inspected and its seal validated.
"""
