"""quarter counts for the national summaries

Adds `incident_quarter_counts`: the trend counts added up by calendar quarter, district,
audience, category and strands, with a covering index (the national summaries read it instead of
the trend counts, a quarter of the rows), filled from the trend counts already held.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incident_quarter_counts',
    sa.Column('quarter', sa.Date(), nullable=False),
    sa.Column('area_code', sa.String(length=9), nullable=False),
    sa.Column('audience', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=40), nullable=False),
    sa.Column('strand_mask', sa.Integer(), nullable=False),
    sa.Column('incidents', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_incident_quarter_counts_area_code_areas')),
    sa.ForeignKeyConstraint(['category_code'], ['incident_categories.code'], name=op.f('fk_incident_quarter_counts_category_code_incident_categories')),
    sa.PrimaryKeyConstraint('quarter', 'area_code', 'audience', 'category_code', 'strand_mask', name=op.f('pk_incident_quarter_counts'))
    )
    with op.batch_alter_table('incident_quarter_counts', schema=None) as batch_op:
        batch_op.create_index('ix_incident_quarter_counts_figures', ['quarter', 'area_code', 'audience', 'category_code', 'strand_mask', 'incidents'], unique=False)

    from dashboard.rollups import refresh_quarter_counts

    refresh_quarter_counts(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('incident_quarter_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_quarter_counts_figures')
    op.drop_table('incident_quarter_counts')
