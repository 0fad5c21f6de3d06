"""Pure domain: no I/O, standard library only."""
