"""DALI request parameters: names case-insensitive, values as sent, GET and POST alike."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request

from dalserver.errors import DALIError


class DALIParams:
    """All parameters of a request, looked up by case-insensitive name."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name.upper(), []).append(value)

    @classmethod
    async def from_request(cls, request: Request) -> DALIParams:
        pairs = list(request.query_params.multi_items())
        if request.method == "POST":
            try:
                form = await request.form()
            except Exception as exc:  # malformed multipart or urlencoded body
                raise DALIError(f"cannot read the POST body: {exc}") from exc
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    continue  # uploads are handled by the UPLOAD machinery, not as text
                pairs.append((name, value))
        return cls(pairs)

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._values.get(name.upper())
        return values[-1] if values else default

    def getall(self, name: str) -> list[str]:
        return list(self._values.get(name.upper(), []))

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None or not value.strip():
            raise DALIError(f"missing required parameter {name}")
        return value

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        raw = self.get(name)
        if raw is None or raw.strip() == "":
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            raise DALIError(f"{name} must be a non-negative integer, not {raw!r}") from None
        if value < minimum:
            raise DALIError(f"{name} must be a non-negative integer, not {raw!r}")
        return value
