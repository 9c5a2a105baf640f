"""at-risk levels (issue 24): required rate and consecutive-absence limit on qualifications, cohorts and
corporate agreements; how an institution counts EXCUSED; each trainee's level, its change history, and one
notice row per change and recipient

Revision ID: 0027
Revises: 0026
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

_STATUS = sa.Enum('PENDING', 'SENT', 'FAILED', name='reminderstatus', native_enum=False, length=20)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_OVERRIDDEN = ('qualifications', 'cohorts', 'corporate_agreements')


def upgrade():
    for table in _OVERRIDDEN:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('required_rate', sa.Float(), nullable=True))
            batch_op.add_column(sa.Column('absence_limit', sa.Integer(), nullable=True))
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('excused_counts_as', sa.String(length=12),
                                      server_default=sa.text("'not_counted'"), nullable=False))
        batch_op.add_column(sa.Column('at_risk_rules', _JSON, nullable=True))

    op.create_table(
        'at_risk_levels',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cohort_id', sa.Integer(), nullable=False),
        sa.Column('member_type', sa.String(length=20), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('level', sa.String(length=16), nullable=False),
        sa.Column('rate', sa.Float(), nullable=True),
        sa.Column('required_rate', sa.Float(), nullable=False),
        sa.Column('best_reachable_rate', sa.Float(), nullable=True),
        sa.Column('margin', sa.Integer(), nullable=False),
        sa.Column('consecutive_absences', sa.Integer(), nullable=False),
        sa.Column('absence_limit', sa.Integer(), nullable=False),
        sa.Column('attended', sa.Integer(), nullable=False),
        sa.Column('counted', sa.Integer(), nullable=False),
        sa.Column('remaining', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=60), nullable=True),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_at_risk_levels_cohort_id_cohorts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_at_risk_levels')),
        sa.UniqueConstraint('member_type', 'member_id', name=op.f('uq_at_risk_levels_member_type_member_id')),
    )
    with op.batch_alter_table('at_risk_levels', schema=None) as batch_op:
        batch_op.create_index('ix_at_risk_levels_cohort_level', ['cohort_id', 'level'], unique=False)
        batch_op.create_index('ix_at_risk_levels_level_margin', ['level', 'margin'], unique=False)

    op.create_table(
        'at_risk_level_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cohort_id', sa.Integer(), nullable=False),
        sa.Column('member_type', sa.String(length=20), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('from_level', sa.String(length=16), nullable=False),
        sa.Column('to_level', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=60), nullable=True),
        sa.Column('rate', sa.Float(), nullable=True),
        sa.Column('margin', sa.Integer(), nullable=False),
        sa.Column('changed_on', sa.Date(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'],
                                name=op.f('fk_at_risk_level_changes_cohort_id_cohorts'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_at_risk_level_changes')),
    )
    with op.batch_alter_table('at_risk_level_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_at_risk_level_changes_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index('ix_at_risk_level_changes_member', ['member_type', 'member_id'], unique=False)

    op.create_table(
        'at_risk_level_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('change_id', sa.Integer(), nullable=False),
        sa.Column('audience', sa.String(length=20), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=True),
        sa.Column('language', sa.String(length=8), nullable=True),
        sa.Column('status', _STATUS, nullable=False),
        sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['change_id'], ['at_risk_level_changes.id'],
                                name=op.f('fk_at_risk_level_notices_change_id_at_risk_level_changes'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_at_risk_level_notices')),
        sa.UniqueConstraint('change_id', 'email', name=op.f('uq_at_risk_level_notices_change_id_email')),
    )


def downgrade():
    op.drop_table('at_risk_level_notices')
    with op.batch_alter_table('at_risk_level_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_at_risk_level_changes_member')
        batch_op.drop_index(batch_op.f('ix_at_risk_level_changes_cohort_id'))
    op.drop_table('at_risk_level_changes')
    with op.batch_alter_table('at_risk_levels', schema=None) as batch_op:
        batch_op.drop_index('ix_at_risk_levels_level_margin')
        batch_op.drop_index('ix_at_risk_levels_cohort_level')
    op.drop_table('at_risk_levels')
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.drop_column('at_risk_rules')
        batch_op.drop_column('excused_counts_as')
    for table in reversed(_OVERRIDDEN):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('absence_limit')
            batch_op.drop_column('required_rate')
