"""Plain data and the error tree. No I/O, no framework imports."""
