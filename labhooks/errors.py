"""The one exception type that the CLI turns into a single line and an exit code."""


class LabhooksError(Exception):
    """A failure the user can act on; ``exit_code`` 2 means usage or environment."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message
