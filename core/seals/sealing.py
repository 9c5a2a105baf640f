"""The seal applied to a PDF: a PAdES (ETSI.CAdES.detached) certification signature, invisible, appended as an
incremental update after everything else (the tagged join included), so the document's structure tree, language
and PDF/UA flags stay as they were. Certified with "no changes allowed": any later update, even a form fill,
breaks the seal's promise, which verification reports as "changed after sealing"."""

from __future__ import annotations

import functools
import io
import warnings

from cryptography.utils import CryptographyDeprecationWarning

from .loop import outside_event_loop

SEAL_FIELD = "InstitutionSeal"


def warm_up() -> None:
    """Import pyHanko and run one seal (an ephemeral key on a one-page PDF) before the clock: a process's first
    seal otherwise pays for importing pyHanko, its certificate validator and asyncio (about a second)."""
    import datetime as dt

    import pikepdf

    from .certificates import generate

    material = generate("Warm-up", None, dt.datetime.now(dt.UTC))
    out = io.BytesIO()
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(out)
    seal_pdf(out.getvalue(), material.certificate_der, material.private_key_der, "Warm-up")
    _signer.cache_clear()  # the ephemeral key goes


@functools.lru_cache(maxsize=16)
def _signer(certificate_der: bytes, private_key_der: bytes) -> object:
    from asn1crypto import keys, x509
    from pyhanko.sign import signers

    return signers.SimpleSigner(signing_cert=x509.Certificate.load(certificate_der),
                                signing_key=keys.PrivateKeyInfo.load(private_key_der), cert_registry=None)


def seal_pdf(content: bytes, certificate_der: bytes, private_key_der: bytes, institution: str) -> bytes:
    """`content` with the seal appended (a new revision: the bytes before it are untouched)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)  # pyHanko imports DSA (deprecated)
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(content), strict=False)
    # Hidden and of zero size: no reader shows it or asks for it in the structure tree (PDF/UA 7.18.1).
    spec = fields.SigFieldSpec(SEAL_FIELD, readable_field_name=f"Seal of {institution}"[:200],
                               invis_sig_settings=fields.InvisSigSettings(set_print_flag=False,
                                                                          set_hidden_flag=True))
    meta = signers.PdfSignatureMetadata(field_name=SEAL_FIELD, md_algorithm="sha256", certify=True,
                                        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
                                        subfilter=fields.SigSeedSubFilter.PADES, name=institution[:200],
                                        reason="Issued and sealed by the institution")
    signer = signers.PdfSigner(meta, signer=_signer(certificate_der, private_key_der), new_field_spec=spec)
    out = outside_event_loop(signer.sign_pdf, writer, in_place=False)
    return out.getvalue()  # type: ignore[no-any-return]
