"""corporate finance (issue 23): agreement terms, institution billing details, invoices, credit notes,
payments, gap-free counters; triggers that refuse changes to an issued invoice's lines and money

Revision ID: 0022
Revises: 0021

Money is BIGINT minor units; rates INTEGER hundredths of a percent. The database itself keeps issued
documents as they were issued: on PostgreSQL and SQLite alike, a trigger refuses any INSERT, UPDATE or DELETE
of an invoice line whose invoice is no longer a draft, and any change of an issued invoice's number, period,
currency, amounts or dates (only its status, paid and credited sums and its document may move).
"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

_FROZEN = ("number", "period_from", "period_to", "currency", "subtotal", "tax", "total", "issued_on", "due_on",
           "cohort_id", "organization_id", "institution_id")
_MESSAGE = "issued invoice is immutable"

_PG = [
    f"""CREATE FUNCTION invoice_lines_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM invoices WHERE id = COALESCE(NEW.invoice_id, OLD.invoice_id) AND status <> 'draft')
         OR (TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM invoices WHERE id = OLD.invoice_id AND status <> 'draft'))
      THEN RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'check_violation';
      END IF;
      RETURN COALESCE(NEW, OLD);
    END $$""",
    "CREATE TRIGGER invoice_lines_frozen BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines "
    "FOR EACH ROW EXECUTE FUNCTION invoice_lines_frozen()",
    f"""CREATE FUNCTION invoices_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.status <> 'draft' AND (TG_OP = 'DELETE' OR
         ({' OR '.join(f'NEW.{c} IS DISTINCT FROM OLD.{c}' for c in _FROZEN)}) OR NEW.status = 'draft')
      THEN RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'check_violation';
      END IF;
      RETURN COALESCE(NEW, OLD);
    END $$""",
    "CREATE TRIGGER invoices_frozen BEFORE UPDATE OR DELETE ON invoices FOR EACH ROW EXECUTE FUNCTION invoices_frozen()",
    """CREATE FUNCTION credit_notes_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' OR NEW.number IS DISTINCT FROM OLD.number OR NEW.total IS DISTINCT FROM OLD.total
         OR NEW.subtotal IS DISTINCT FROM OLD.subtotal OR NEW.tax IS DISTINCT FROM OLD.tax
         OR NEW.invoice_id IS DISTINCT FROM OLD.invoice_id
      THEN RAISE EXCEPTION 'issued credit note is immutable' USING ERRCODE = 'check_violation';
      END IF;
      RETURN COALESCE(NEW, OLD);
    END $$""",
    "CREATE TRIGGER credit_notes_frozen BEFORE UPDATE OR DELETE ON credit_notes "
    "FOR EACH ROW EXECUTE FUNCTION credit_notes_frozen()",
]

_SQLITE = [
    f"""CREATE TRIGGER invoice_lines_frozen_insert BEFORE INSERT ON invoice_lines
    WHEN EXISTS (SELECT 1 FROM invoices WHERE id = NEW.invoice_id AND status <> 'draft')
    BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END""",
    f"""CREATE TRIGGER invoice_lines_frozen_update BEFORE UPDATE ON invoice_lines
    WHEN EXISTS (SELECT 1 FROM invoices WHERE id IN (OLD.invoice_id, NEW.invoice_id) AND status <> 'draft')
    BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END""",
    f"""CREATE TRIGGER invoice_lines_frozen_delete BEFORE DELETE ON invoice_lines
    WHEN EXISTS (SELECT 1 FROM invoices WHERE id = OLD.invoice_id AND status <> 'draft')
    BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END""",
    f"""CREATE TRIGGER invoices_frozen_update BEFORE UPDATE ON invoices
    WHEN OLD.status <> 'draft' AND (NEW.status = 'draft' OR
      {' OR '.join(f'NEW.{c} IS NOT OLD.{c}' for c in _FROZEN)})
    BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END""",
    f"""CREATE TRIGGER invoices_frozen_delete BEFORE DELETE ON invoices WHEN OLD.status <> 'draft'
    BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END""",
    """CREATE TRIGGER credit_notes_frozen_update BEFORE UPDATE ON credit_notes
    WHEN NEW.number IS NOT OLD.number OR NEW.total IS NOT OLD.total OR NEW.subtotal IS NOT OLD.subtotal
      OR NEW.tax IS NOT OLD.tax OR NEW.invoice_id IS NOT OLD.invoice_id
    BEGIN SELECT RAISE(ABORT, 'issued credit note is immutable'); END""",
    """CREATE TRIGGER credit_notes_frozen_delete BEFORE DELETE ON credit_notes
    BEGIN SELECT RAISE(ABORT, 'issued credit note is immutable'); END""",
]


def upgrade():
    with op.batch_alter_table('corporate_agreements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pricing_model', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('unit_price', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('tax_rate', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('upfront_percent', sa.Integer(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('billing_plan', sa.String(length=16), nullable=False,
                                      server_default=sa.text("'monthly'")))
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('tax_number', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('billing_address', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('invoice_prefix', sa.String(length=12), nullable=False,
                                      server_default=sa.text("'INV'")))
        batch_op.add_column(sa.Column('payment_terms_days', sa.Integer(), nullable=False, server_default=sa.text('30')))
        batch_op.add_column(sa.Column('bank_details', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('default_tax_rate', sa.Integer(), nullable=True))

    op.create_table(
        'finance_counters',
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_finance_counters_institution_id_institutions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('institution_id', 'kind', 'year', name=op.f('pk_finance_counters')),
    )
    op.create_table(
        'invoices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('agreement_id', sa.Integer(), nullable=False),
        sa.Column('cohort_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=40), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('period_from', sa.Date(), nullable=False),
        sa.Column('period_to', sa.Date(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('subtotal', sa.BigInteger(), nullable=False),
        sa.Column('tax', sa.BigInteger(), nullable=False),
        sa.Column('total', sa.BigInteger(), nullable=False),
        sa.Column('paid', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
        sa.Column('credited', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=True),
        sa.Column('overdue_notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'),
                  nullable=False),
        sa.CheckConstraint('period_to >= period_from', name=op.f('ck_invoices_period_ordered')),
        sa.CheckConstraint("paid >= 0 AND credited >= 0 AND paid + credited <= total OR status = 'draft'",
                           name=op.f('ck_invoices_not_overpaid')),
        sa.ForeignKeyConstraint(['agreement_id'], ['corporate_agreements.id'],
                                name=op.f('fk_invoices_agreement_id_corporate_agreements')),
        sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_invoices_cohort_id_cohorts')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_invoices_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['document_id'], ['register_documents.id'],
                                name=op.f('fk_invoices_document_id_register_documents'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_invoices_institution_id_institutions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_invoices_organization_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
        sa.UniqueConstraint('institution_id', 'number', name=op.f('uq_invoices_institution_id_number')),
    )
    op.create_index(op.f('ix_invoices_institution_id'), 'invoices', ['institution_id'])
    op.create_index(op.f('ix_invoices_cohort_id'), 'invoices', ['cohort_id'])
    op.create_index('ix_invoices_org_status', 'invoices', ['organization_id', 'status'])
    op.create_index('ix_invoices_status_due', 'invoices', ['status', 'due_on'])
    op.create_table(
        'invoice_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('counts', sa.String(length=30), nullable=False),
        sa.Column('description', sa.String(length=300), nullable=False),
        sa.Column('quantity', sa.BigInteger(), nullable=False),
        sa.Column('unit_price', sa.BigInteger(), nullable=False),
        sa.Column('tax_rate', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('tax', sa.BigInteger(), nullable=False),
        sa.Column('period_key', sa.String(length=20), nullable=True),
        sa.Column('registers', sa.Text(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.CheckConstraint('quantity >= 0', name=op.f('ck_invoice_lines_quantity_not_negative')),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_lines_invoice_id_invoices'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_lines')),
    )
    op.create_index(op.f('ix_invoice_lines_invoice_id'), 'invoice_lines', ['invoice_id'])
    op.create_table(
        'credit_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('subtotal', sa.BigInteger(), nullable=False),
        sa.Column('tax', sa.BigInteger(), nullable=False),
        sa.Column('total', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'),
                  nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_credit_notes_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['document_id'], ['register_documents.id'],
                                name=op.f('fk_credit_notes_document_id_register_documents'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_credit_notes_institution_id_institutions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_credit_notes_invoice_id_invoices')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_notes')),
        sa.UniqueConstraint('institution_id', 'number', name=op.f('uq_credit_notes_institution_id_number')),
    )
    op.create_index(op.f('ix_credit_notes_institution_id'), 'credit_notes', ['institution_id'])
    op.create_index(op.f('ix_credit_notes_invoice_id'), 'credit_notes', ['invoice_id'])
    op.create_table(
        'invoice_payments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('paid_on', sa.Date(), nullable=False),
        sa.Column('reference', sa.String(length=120), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'),
                  nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_invoice_payments_amount_positive')),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_payments_invoice_id_invoices')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_invoice_payments_recorded_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_payments')),
    )
    op.create_index(op.f('ix_invoice_payments_invoice_id'), 'invoice_payments', ['invoice_id'])
    op.create_table(
        'agreement_terms_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agreement_id', sa.Integer(), nullable=False),
        sa.Column('changed_by_id', sa.Integer(), nullable=True),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('before', sa.Text(), nullable=False),
        sa.Column('after', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['agreement_id'], ['corporate_agreements.id'],
                                name=op.f('fk_agreement_terms_changes_agreement_id_corporate_agreements'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'],
                                name=op.f('fk_agreement_terms_changes_changed_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_terms_changes')),
    )
    op.create_index(op.f('ix_agreement_terms_changes_agreement_id'), 'agreement_terms_changes', ['agreement_id'])
    for statement in (_PG if op.get_bind().dialect.name == "postgresql" else _SQLITE):
        op.execute(statement)


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS credit_notes_frozen ON credit_notes")
        op.execute("DROP TRIGGER IF EXISTS invoices_frozen ON invoices")
        op.execute("DROP TRIGGER IF EXISTS invoice_lines_frozen ON invoice_lines")
        for name in ("credit_notes_frozen", "invoices_frozen", "invoice_lines_frozen"):
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in ("invoice_lines_frozen_insert", "invoice_lines_frozen_update", "invoice_lines_frozen_delete",
                     "invoices_frozen_update", "invoices_frozen_delete", "credit_notes_frozen_update",
                     "credit_notes_frozen_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in ("agreement_terms_changes", "invoice_payments", "credit_notes", "invoice_lines", "invoices",
                  "finance_counters"):
        op.drop_table(table)
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        for column in ('default_tax_rate', 'bank_details', 'payment_terms_days', 'invoice_prefix', 'billing_address',
                       'tax_number', 'legal_name'):
            batch_op.drop_column(column)
    with op.batch_alter_table('corporate_agreements', schema=None) as batch_op:
        for column in ('billing_plan', 'upfront_percent', 'tax_rate', 'currency', 'unit_price', 'pricing_model'):
            batch_op.drop_column(column)
