"""Errors meant for users: printed as one clear line, never as a traceback."""


class UserError(Exception):
    """Bad input from a user (file, key, value): the message says what is allowed.

    The CLI prints ``error: <message>`` and exits with status 2.
    """
