"""registers: session and cohort documents in three formats, public references, data versions, submissions (issue 10)

Revision ID: 0008
Revises: 0009

register_documents: `kind` becomes what the document covers (session | cohort; client reports keep their
kinds) and `format` says what it is (pdf | xlsx | csv); existing register rows were one-session PDFs. Adds the institution (tenant and the verify page),
language, the cohort period, a public `reference` and a short `verification_code` (existing rows get fresh
ones), `data_version` (reuse of unchanged builds), page count, attempts and start time.
submissions: the institution and the frozen sha256; one submission per document.
"""
import secrets

from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0009'
branch_labels = None
depends_on = None

_REPORTS = ('DELIVERY_REPORT_PDF', 'DELIVERY_REPORT_XLSX', 'PROGRESS_REPORT_PDF', 'PROGRESS_REPORT_XLSX')
_OLD_KIND = sa.Enum('REGISTER_PDF', 'REGISTER_CSV', *_REPORTS, name='documentkind', native_enum=False, length=20)
_KIND = sa.Enum('session', 'cohort', *_REPORTS, name='documentkind', native_enum=False, length=20)
_FORMAT = sa.Enum('pdf', 'xlsx', 'csv', name='documentformat', native_enum=False, length=8)
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _token(n):
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def upgrade():
    with op.batch_alter_table('register_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('institution_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('format', _FORMAT, server_default=sa.text("'pdf'"), nullable=False))
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default=sa.text("'en'"),
                                      nullable=False))
        batch_op.add_column(sa.Column('period_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('period_end', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reference', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('verification_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('data_version', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('page_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))

    bind = op.get_bind()
    bind.execute(sa.text("UPDATE register_documents SET format = CASE WHEN kind = 'REGISTER_CSV' THEN 'csv' "
                         "WHEN kind LIKE '%XLSX' THEN 'xlsx' ELSE 'pdf' END"))
    bind.execute(sa.text("UPDATE register_documents SET kind = 'session' WHERE kind IN ('REGISTER_PDF', "
                         "'REGISTER_CSV')"))
    bind.execute(sa.text("UPDATE register_documents SET institution_id = "
                         "(SELECT institution_id FROM cohorts WHERE cohorts.id = register_documents.cohort_id)"))
    for (doc_id,) in bind.execute(sa.text("SELECT id FROM register_documents")).all():
        bind.execute(sa.text("UPDATE register_documents SET reference = :r, verification_code = :c WHERE id = :id"),
                     {"r": f"R{_token(4)}-{_token(4)}-{_token(4)}", "c": _token(8), "id": doc_id})

    with op.batch_alter_table('register_documents', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=_OLD_KIND, type_=_KIND, existing_nullable=False)
        batch_op.alter_column('reference', existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column('verification_code', existing_type=sa.String(length=16), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_register_documents_institution_id_institutions'), 'institutions',
                                    ['institution_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_register_documents_institution_id'), ['institution_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_register_documents_reference'), ['reference'])
        batch_op.create_index(batch_op.f('ix_register_documents_sha256'), ['sha256'], unique=False)
        batch_op.create_index('ix_register_documents_reuse', ['cohort_id', 'session_id', 'kind', 'format', 'language',
                                                               'data_version'], unique=False)

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('institution_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sha256', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_submissions_institution_id_institutions'), 'institutions',
                                    ['institution_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_submissions_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index('uq_submissions_document_id', ['document_id'], unique=True,
                              postgresql_where=sa.text('document_id IS NOT NULL'),
                              sqlite_where=sa.text('document_id IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('uq_submissions_document_id')
        batch_op.drop_index(batch_op.f('ix_submissions_institution_id'))
        batch_op.drop_constraint(batch_op.f('fk_submissions_institution_id_institutions'), type_='foreignkey')
        batch_op.drop_column('sha256')
        batch_op.drop_column('institution_id')

    # Older code knows one-session PDFs (and client reports) only: other documents cannot go down with it.
    op.execute("DELETE FROM register_documents WHERE kind = 'cohort' OR (kind = 'session' AND format <> 'pdf')")
    with op.batch_alter_table('register_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_register_documents_reuse')
        batch_op.drop_index(batch_op.f('ix_register_documents_sha256'))
        batch_op.drop_constraint(batch_op.f('uq_register_documents_reference'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_register_documents_institution_id'))
        batch_op.drop_constraint(batch_op.f('fk_register_documents_institution_id_institutions'), type_='foreignkey')
    op.execute("UPDATE register_documents SET kind = 'REGISTER_PDF' WHERE kind = 'session'")
    with op.batch_alter_table('register_documents', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=_KIND, type_=_OLD_KIND, existing_nullable=False)
        for column in ('started_at', 'attempts', 'page_count', 'data_version', 'verification_code', 'reference',
                       'period_end', 'period_start', 'language', 'format', 'institution_id'):
            batch_op.drop_column(column)
