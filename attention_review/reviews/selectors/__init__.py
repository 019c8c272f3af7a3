"""Every non-trivial read, already scoped to what the user may see, one module per
workflow:

- `access`: roles and visibility, and the one way a view gets an object it may see.
- `queue`: the review queue and the sync panel.
- `review`: what the review page shows of one conversation.
- `audit`: the ledger, its filters and its summary.

This package re-exports nothing: import the module you need.
"""
