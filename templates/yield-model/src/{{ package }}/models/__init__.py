"""Lightning modules (what train.py fits) and, in components/, the networks they wrap."""
