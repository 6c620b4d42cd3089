"""customer search key: names without accents and case, for search on every engine

Revision ID: 9d2b7c4e1a60
Revises: 7a3e51c09d4f
Create Date: 2026-12-05 14:15:00
"""

from alembic import op
import sqlalchemy as sa

from callerid.directory.customers import search_key


revision = '9d2b7c4e1a60'
down_revision = '7a3e51c09d4f'
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table('customers') as batch_op:
        batch_op.add_column(sa.Column('search_key', sa.Text(), nullable=False, server_default=''))
    # Backfill with the same function every write uses, a batch at a time (a million customers
    # fit in memory as ids, not as rows).
    connection = op.get_bind()
    customers = sa.table(
        'customers',
        sa.column('id', sa.Integer),
        sa.column('name', sa.String),
        sa.column('preferred_name', sa.String),
        sa.column('email', sa.String),
        sa.column('search_key', sa.Text),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(customers.c.id, customers.c.name, customers.c.preferred_name, customers.c.email)
            .where(customers.c.id > last)
            .order_by(customers.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            customers.update().where(customers.c.id == sa.bindparam('row_id')),
            [
                {'row_id': row.id, 'search_key': search_key(row.name, row.preferred_name, row.email)}
                for row in rows
            ],
        )
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table('customers') as batch_op:
        batch_op.drop_column('search_key')
