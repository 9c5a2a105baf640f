"""finance terms (issue 23, second part): which attendance statuses an agreement bills, kept on each invoice

Revision ID: 0026
Revises: 0025

`corporate_agreements.billable_statuses`: the statuses that make a billed trainee-day (comma-separated,
default PRESENT,LATE: only attended days). `invoices.billed_statuses`: the statuses a draft counted, frozen
with the invoice (it is printed on it), so the issued-invoice trigger now refuses a change of it too.
`register_documents.organization_id`: an organization's statement PDF is a document of the organization, not of
one cohort (its `cohort_id` is NULL; every other document keeps its cohort).
"""
import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

_BEFORE = ("number", "period_from", "period_to", "currency", "subtotal", "tax", "total", "issued_on", "due_on",
           "cohort_id", "organization_id", "institution_id")
_AFTER = (*_BEFORE, "billed_statuses")
_MESSAGE = "issued invoice is immutable"


def _pg_function(columns: tuple[str, ...]) -> str:
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in columns)
    return f"""CREATE OR REPLACE FUNCTION invoices_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.status <> 'draft' AND (TG_OP = 'DELETE' OR ({changed}) OR NEW.status = 'draft')
      THEN RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'check_violation';
      END IF;
      RETURN COALESCE(NEW, OLD);
    END $$"""


def _sqlite_trigger(columns: tuple[str, ...]) -> str:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)
    return f"""CREATE TRIGGER invoices_frozen_update BEFORE UPDATE ON invoices
    WHEN OLD.status <> 'draft' AND (NEW.status = 'draft' OR {changed})
    BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"""


def _freeze(columns: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_pg_function(columns))
    else:
        op.execute("DROP TRIGGER IF EXISTS invoices_frozen_update")
        op.execute(_sqlite_trigger(columns))


def upgrade():
    with op.batch_alter_table('corporate_agreements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('billable_statuses', sa.String(length=40), nullable=False,
                                      server_default=sa.text("'PRESENT,LATE'")))
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('billed_statuses', sa.String(length=40), nullable=True))
    with op.batch_alter_table('register_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organization_id', sa.Integer(), nullable=True))
        batch_op.alter_column('cohort_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_register_documents_organization_id_organizations'),
                                    'organizations', ['organization_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_register_documents_organization_id'), ['organization_id'])
    _freeze(_AFTER)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TRIGGER IF EXISTS invoices_frozen_update")
    op.execute("DELETE FROM register_documents WHERE cohort_id IS NULL")  # statements: nothing else to hang on
    with op.batch_alter_table('register_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_documents_organization_id'))
        batch_op.drop_constraint(batch_op.f('fk_register_documents_organization_id_organizations'),
                                 type_='foreignkey')
        batch_op.drop_column('organization_id')
        batch_op.alter_column('cohort_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_column('billed_statuses')
    with op.batch_alter_table('corporate_agreements', schema=None) as batch_op:
        batch_op.drop_column('billable_statuses')
    _freeze(_BEFORE)
