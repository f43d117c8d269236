import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Section(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SECTION_UNSPECIFIED: _ClassVar[Section]
    SECTION_FEATURES: _ClassVar[Section]
    SECTION_OUTPUTS: _ClassVar[Section]
    SECTION_METRICS: _ClassVar[Section]
SECTION_UNSPECIFIED: Section
SECTION_FEATURES: Section
SECTION_OUTPUTS: Section
SECTION_METRICS: Section

class SendRequest(_message.Message):
    __slots__ = ("model", "records", "columns", "row_count", "ids", "time_unix_nano")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    TIME_UNIX_NANO_FIELD_NUMBER: _ClassVar[int]
    model: str
    records: _containers.RepeatedCompositeFieldContainer[Record]
    columns: _containers.RepeatedCompositeFieldContainer[Column]
    row_count: int
    ids: TextColumn
    time_unix_nano: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, model: _Optional[str] = ..., records: _Optional[_Iterable[_Union[Record, _Mapping]]] = ..., columns: _Optional[_Iterable[_Union[Column, _Mapping]]] = ..., row_count: _Optional[int] = ..., ids: _Optional[_Union[TextColumn, _Mapping]] = ..., time_unix_nano: _Optional[_Iterable[int]] = ...) -> None: ...

class Record(_message.Message):
    __slots__ = ("id", "time", "features", "outputs", "metrics")
    class FeaturesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...
    class OutputsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    id: str
    time: _timestamp_pb2.Timestamp
    features: _containers.MessageMap[str, Value]
    outputs: _containers.MessageMap[str, Value]
    metrics: _containers.ScalarMap[str, float]
    def __init__(self, id: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., features: _Optional[_Mapping[str, Value]] = ..., outputs: _Optional[_Mapping[str, Value]] = ..., metrics: _Optional[_Mapping[str, float]] = ...) -> None: ...

class Value(_message.Message):
    __slots__ = ("number", "category", "text", "flag", "embedding")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FLAG_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    number: float
    category: str
    text: str
    flag: bool
    embedding: Embedding
    def __init__(self, number: _Optional[float] = ..., category: _Optional[str] = ..., text: _Optional[str] = ..., flag: _Optional[bool] = ..., embedding: _Optional[_Union[Embedding, _Mapping]] = ...) -> None: ...

class Embedding(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class Column(_message.Message):
    __slots__ = ("name", "section", "validity", "numbers", "categories", "texts", "flags")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SECTION_FIELD_NUMBER: _ClassVar[int]
    VALIDITY_FIELD_NUMBER: _ClassVar[int]
    NUMBERS_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    section: Section
    validity: bytes
    numbers: NumberColumn
    categories: DictionaryColumn
    texts: TextColumn
    flags: FlagColumn
    def __init__(self, name: _Optional[str] = ..., section: _Optional[_Union[Section, str]] = ..., validity: _Optional[bytes] = ..., numbers: _Optional[_Union[NumberColumn, _Mapping]] = ..., categories: _Optional[_Union[DictionaryColumn, _Mapping]] = ..., texts: _Optional[_Union[TextColumn, _Mapping]] = ..., flags: _Optional[_Union[FlagColumn, _Mapping]] = ...) -> None: ...

class NumberColumn(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class DictionaryColumn(_message.Message):
    __slots__ = ("dictionary", "codes")
    DICTIONARY_FIELD_NUMBER: _ClassVar[int]
    CODES_FIELD_NUMBER: _ClassVar[int]
    dictionary: _containers.RepeatedScalarFieldContainer[str]
    codes: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, dictionary: _Optional[_Iterable[str]] = ..., codes: _Optional[_Iterable[int]] = ...) -> None: ...

class TextColumn(_message.Message):
    __slots__ = ("data", "offsets")
    DATA_FIELD_NUMBER: _ClassVar[int]
    OFFSETS_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    offsets: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, data: _Optional[bytes] = ..., offsets: _Optional[_Iterable[int]] = ...) -> None: ...

class FlagColumn(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, values: _Optional[_Iterable[bool]] = ...) -> None: ...

class SendOutcomesRequest(_message.Message):
    __slots__ = ("model", "outcomes")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    model: str
    outcomes: _containers.RepeatedCompositeFieldContainer[Outcome]
    def __init__(self, model: _Optional[str] = ..., outcomes: _Optional[_Iterable[_Union[Outcome, _Mapping]]] = ...) -> None: ...

class Outcome(_message.Message):
    __slots__ = ("id", "time", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    id: str
    time: _timestamp_pb2.Timestamp
    labels: _containers.MessageMap[str, Value]
    def __init__(self, id: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., labels: _Optional[_Mapping[str, Value]] = ...) -> None: ...

class SendResponse(_message.Message):
    __slots__ = ("accepted", "rejected", "rejections")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    rejected: int
    rejections: _containers.RepeatedCompositeFieldContainer[Rejection]
    def __init__(self, accepted: _Optional[int] = ..., rejected: _Optional[int] = ..., rejections: _Optional[_Iterable[_Union[Rejection, _Mapping]]] = ...) -> None: ...

class Rejection(_message.Message):
    __slots__ = ("record", "field", "reason", "batch")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    record: int
    field: str
    reason: str
    batch: int
    def __init__(self, record: _Optional[int] = ..., field: _Optional[str] = ..., reason: _Optional[str] = ..., batch: _Optional[int] = ...) -> None: ...
