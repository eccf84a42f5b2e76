/* The parts of the ONNX IR (onnx/onnx.proto, IR version 7) that fcnn writes, as protobuf
 * field numbers and enum values. Spelled out here, in one place, so the writer and the
 * test's decoder agree on them and nobody has to vendor ONNX's sources to read them. The
 * numbers are part of the ONNX file format and never change. */
#ifndef FCNN_ONNX_PROTO_H
#define FCNN_ONNX_PROTO_H

/* IR version 7 goes with opset 13 (ONNX 1.8); every ONNX runtime since 2020 reads it. */
#define ONNX_IR_VERSION 7
#define ONNX_OPSET_VERSION 13

/* Protobuf wire types. */
enum pb_wire_type {
    PB_WIRE_VARINT = 0,  /* int32, int64, enum, bool */
    PB_WIRE_FIXED64 = 1,
    PB_WIRE_LEN = 2,     /* string, bytes, embedded message, packed repeated */
    PB_WIRE_FIXED32 = 5, /* float */
};

/* message ModelProto */
enum onnx_model_field {
    ONNX_MODEL_IR_VERSION = 1,       /* int64 */
    ONNX_MODEL_PRODUCER_NAME = 2,    /* string */
    ONNX_MODEL_PRODUCER_VERSION = 3, /* string */
    ONNX_MODEL_DOMAIN = 4,           /* string */
    ONNX_MODEL_MODEL_VERSION = 5,    /* int64 */
    ONNX_MODEL_DOC_STRING = 6,       /* string */
    ONNX_MODEL_GRAPH = 7,            /* GraphProto */
    ONNX_MODEL_OPSET_IMPORT = 8,     /* repeated OperatorSetIdProto */
    ONNX_MODEL_METADATA_PROPS = 14,  /* repeated StringStringEntryProto */
};

/* message OperatorSetIdProto */
enum onnx_opset_field {
    ONNX_OPSETID_DOMAIN = 1,  /* string; "" is the default ai.onnx domain */
    ONNX_OPSETID_VERSION = 2, /* int64 */
};

/* message StringStringEntryProto */
enum onnx_string_entry_field {
    ONNX_ENTRY_KEY = 1,
    ONNX_ENTRY_VALUE = 2,
};

/* message GraphProto */
enum onnx_graph_field {
    ONNX_GRAPH_NODE = 1,         /* repeated NodeProto, in topological order */
    ONNX_GRAPH_NAME = 2,         /* string */
    ONNX_GRAPH_INITIALIZER = 5,  /* repeated TensorProto */
    ONNX_GRAPH_DOC_STRING = 10,  /* string */
    ONNX_GRAPH_INPUT = 11,       /* repeated ValueInfoProto */
    ONNX_GRAPH_OUTPUT = 12,      /* repeated ValueInfoProto */
    ONNX_GRAPH_VALUE_INFO = 13,  /* repeated ValueInfoProto */
};

/* message NodeProto */
enum onnx_node_field {
    ONNX_NODE_INPUT = 1,      /* repeated string */
    ONNX_NODE_OUTPUT = 2,     /* repeated string */
    ONNX_NODE_NAME = 3,       /* string */
    ONNX_NODE_OP_TYPE = 4,    /* string */
    ONNX_NODE_ATTRIBUTE = 5,  /* repeated AttributeProto */
    ONNX_NODE_DOC_STRING = 6, /* string */
    ONNX_NODE_DOMAIN = 7,     /* string */
};

/* message AttributeProto */
enum onnx_attribute_field {
    ONNX_ATTR_NAME = 1,    /* string */
    ONNX_ATTR_F = 2,       /* float */
    ONNX_ATTR_I = 3,       /* int64 */
    ONNX_ATTR_S = 4,       /* bytes */
    ONNX_ATTR_T = 5,       /* TensorProto */
    ONNX_ATTR_FLOATS = 7,  /* repeated float */
    ONNX_ATTR_INTS = 8,    /* repeated int64 */
    ONNX_ATTR_TYPE = 20,   /* AttributeType */
};

/* enum AttributeProto.AttributeType */
enum onnx_attribute_type {
    ONNX_ATTR_TYPE_FLOAT = 1,
    ONNX_ATTR_TYPE_INT = 2,
    ONNX_ATTR_TYPE_STRING = 3,
    ONNX_ATTR_TYPE_TENSOR = 4,
    ONNX_ATTR_TYPE_FLOATS = 6,
    ONNX_ATTR_TYPE_INTS = 7,
};

/* message TensorProto */
enum onnx_tensor_field {
    ONNX_TENSOR_DIMS = 1,       /* repeated int64 */
    ONNX_TENSOR_DATA_TYPE = 2,  /* int32, a TensorProto.DataType */
    ONNX_TENSOR_FLOAT_DATA = 4, /* repeated float (packed) */
    ONNX_TENSOR_INT64_DATA = 7, /* repeated int64 (packed) */
    ONNX_TENSOR_NAME = 8,       /* string */
    ONNX_TENSOR_RAW_DATA = 9,   /* bytes: little-endian values, row-major */
    ONNX_TENSOR_DOC_STRING = 12,
};

/* enum TensorProto.DataType */
enum onnx_data_type {
    ONNX_DTYPE_FLOAT = 1,
    ONNX_DTYPE_INT64 = 7,
};

/* message ValueInfoProto */
enum onnx_value_info_field {
    ONNX_VALUE_NAME = 1,       /* string */
    ONNX_VALUE_TYPE = 2,       /* TypeProto */
    ONNX_VALUE_DOC_STRING = 3, /* string */
};

/* message TypeProto (a oneof: only the tensor case is written) */
enum onnx_type_field {
    ONNX_TYPE_TENSOR_TYPE = 1, /* TypeProto.Tensor */
};

/* message TypeProto.Tensor */
enum onnx_type_tensor_field {
    ONNX_TYPE_TENSOR_ELEM_TYPE = 1, /* int32, a TensorProto.DataType */
    ONNX_TYPE_TENSOR_SHAPE = 2,     /* TensorShapeProto */
};

/* message TensorShapeProto */
enum onnx_shape_field {
    ONNX_SHAPE_DIM = 1, /* repeated TensorShapeProto.Dimension */
};

/* message TensorShapeProto.Dimension (a oneof) */
enum onnx_dimension_field {
    ONNX_DIM_VALUE = 1, /* int64: a fixed size */
    ONNX_DIM_PARAM = 2, /* string: a symbolic (dynamic) size, e.g. the batch "N" */
};

#endif
