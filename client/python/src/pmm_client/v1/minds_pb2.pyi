from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateMindRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetMindRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class MindInfo(_message.Message):
    __slots__ = ("name", "events", "last_id", "last_hash", "bytes", "open", "memory_bytes")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    LAST_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_HASH_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    name: str
    events: int
    last_id: int
    last_hash: str
    bytes: int
    open: bool
    memory_bytes: int
    def __init__(self, name: _Optional[str] = ..., events: _Optional[int] = ..., last_id: _Optional[int] = ..., last_hash: _Optional[str] = ..., bytes: _Optional[int] = ..., open: _Optional[bool] = ..., memory_bytes: _Optional[int] = ...) -> None: ...

class ListMindsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class MindEntry(_message.Message):
    __slots__ = ("name", "bytes", "open")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    bytes: int
    open: bool
    def __init__(self, name: _Optional[str] = ..., bytes: _Optional[int] = ..., open: _Optional[bool] = ...) -> None: ...

class ListMindsResponse(_message.Message):
    __slots__ = ("minds", "next_page_token")
    MINDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    minds: _containers.RepeatedCompositeFieldContainer[MindEntry]
    next_page_token: str
    def __init__(self, minds: _Optional[_Iterable[_Union[MindEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteMindRequest(_message.Message):
    __slots__ = ("name", "confirm")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    name: str
    confirm: str
    def __init__(self, name: _Optional[str] = ..., confirm: _Optional[str] = ...) -> None: ...

class DeleteMindResponse(_message.Message):
    __slots__ = ("trash_path",)
    TRASH_PATH_FIELD_NUMBER: _ClassVar[int]
    trash_path: str
    def __init__(self, trash_path: _Optional[str] = ...) -> None: ...

class BackupMindRequest(_message.Message):
    __slots__ = ("name", "path")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    name: str
    path: str
    def __init__(self, name: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class BackupMindResponse(_message.Message):
    __slots__ = ("path", "events", "last_id", "last_hash", "bytes")
    PATH_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    LAST_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_HASH_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    path: str
    events: int
    last_id: int
    last_hash: str
    bytes: int
    def __init__(self, path: _Optional[str] = ..., events: _Optional[int] = ..., last_id: _Optional[int] = ..., last_hash: _Optional[str] = ..., bytes: _Optional[int] = ...) -> None: ...
