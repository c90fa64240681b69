"""Helpers the tests share: personas, the generated world, the real worker process."""
