"""The demo city: a realistic, deterministic district generated for ``communitygrid demo``.

``geography`` and ``population`` are pure (numbers in, plans out, no database), so their
promises — exact tiling, 300–500 households per grid, the age pyramid — are tested at full
scale without writing 50,000 households; ``build`` writes a plan to the database in bulk.
"""
