"""The demo clinic and its history (`manage.py seed_demo`). Nothing in the product imports this app."""
