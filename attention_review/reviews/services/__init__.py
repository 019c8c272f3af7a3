"""Every action that changes state, one module per workflow. Each service owns its
transaction and its locking, takes keyword-only typed arguments and is named
`<thing>_<verb>`.

- `sync`: Attention's conversations into the database, and the row mappings.
- `review`: drafts and the confirm, which share the conversation's round lock.
- `corrections`: what admins do to put things right (refresh, return to the queue).
- `background`: queueing a sync for a worker.
- `accounts`: the demo accounts.

Import the module you need (`from .services import review`); this package re-exports
nothing, so importing one workflow never loads the others.
"""
