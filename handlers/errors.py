"""Typed domain failures; handlers turn them into friendly Chinese text that says what to do."""

from __future__ import annotations


class DomainError(Exception):
    """A request that cannot be carried out; `str(err)` is what the user is told."""


class UnknownCase(DomainError):
    """No case with that number."""

    def __init__(self, label: str) -> None:
        super().__init__(f"没有找到 {label}，请核对编号（发送「待办」查看您手上的事项）。")


class NoSuchNumber(DomainError):
    """A number too long to name any case (接单 99999999999999999999)."""

    def __init__(self) -> None:
        super().__init__("没有这个编号，请核对编号（发送「待办」查看您手上的事项）。")


class AmbiguousCase(DomainError):
    """A number that names a case in several of the sender's compounds."""

    def __init__(self, label: str, compounds: list[str], example: str) -> None:
        super().__init__(
            f"{label} 在{'、'.join(compounds)}都有，请在命令后面写上小区名，如「{example}」。"
        )


class NotAllowed(DomainError):
    """The sender may not change this case."""

    def __init__(self, label: str) -> None:
        super().__init__(
            f"{label} 不在您的名下，只有承办人、小区书记或社区工作人员可以处理。"
            "如需接手，请联系小区书记转派。"
        )


class WrongState(DomainError):
    """The case is not in a state that allows this step."""


class UnknownTarget(DomainError):
    """A transfer target that names no building head or role."""
