"""The pure decision core: a request in, a reply plus effects out, through a pipeline of small handlers.

Nothing here opens a socket, reads the clock or talks HTTP; time comes in as an argument and the
lease store and the sources are reached only through the protocols in ``ports``.
"""
