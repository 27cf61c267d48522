"""Requests as TF Serving receives them map onto the signatures' inputs.

The model server cannot be installed here (docs/serving.md). These tests
build the gRPC `PredictRequest` of tensorflow-serving-api, send it through
its wire format, map its inputs onto the loaded signature as the server
does (by name, `tf.make_ndarray`), and compare the outputs, packed into a
`PredictResponse`, with the Keras model; and decode a REST JSON body with
{"b64": ...} instances as the server's JSON mapping specifies.
"""

import base64
import json

import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2


def predict(loaded_model, wire):
    """What TF Serving does with a serialized PredictRequest, in Python."""
    request = predict_pb2.PredictRequest.FromString(wire)
    signature = loaded_model.signatures[
        request.model_spec.signature_name or "serving_default"
    ]
    _, specs = signature.structured_input_signature
    assert set(request.inputs) == set(specs), "request inputs != signature inputs"
    feeds = {}
    for name, proto in request.inputs.items():
        assert proto.dtype == specs[name].dtype.as_datatype_enum, name
        feeds[name] = tf.constant(tf.make_ndarray(proto), dtype=specs[name].dtype)
    outputs = signature(**feeds)
    response = predict_pb2.PredictResponse()
    response.model_spec.CopyFrom(request.model_spec)
    for name, value in outputs.items():
        response.outputs[name].CopyFrom(tf.make_tensor_proto(value.numpy()))
    return predict_pb2.PredictResponse.FromString(response.SerializeToString())


def request_bytes(signature, **inputs):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "lficam"
    request.model_spec.signature_name = signature
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    return request.SerializeToString()


def response_arrays(response):
    return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}


@pytest.mark.parametrize(
    "signature, name, kind",
    [
        ("serving_default", "images", "float"),
        ("serving_uint8", "images", "uint8"),
        ("serving_bytes", "image_bytes", "bytes"),
    ],
)
def test_predict_request_maps_onto_the_signature(
    loaded, requests, expected, assert_match, signature, name, kind
):
    value = requests[kind]
    if kind == "bytes":
        value = list(value)  # make_tensor_proto: a DT_STRING tensor.
    wire = request_bytes(signature, **{name: value})
    response = predict(loaded["lficam"], wire)
    assert response.model_spec.name == "lficam"
    assert_match(response_arrays(response), expected["lficam"][signature])


def test_a_misnamed_input_does_not_map(loaded, requests):
    wire = request_bytes("serving_default", image=requests["float"])
    with pytest.raises(AssertionError, match="request inputs != signature inputs"):
        predict(loaded["lficam"], wire)


def rest_to_inputs(body, signature):
    """TF Serving's JSON mapping for the row ("instances") format: one
    instance per batch element; {"b64": ...} is a base64 encoded string; a
    signature with one input takes the instance itself."""
    _, specs = signature.structured_input_signature
    [(name, spec)] = specs.items()

    def value(v):
        return base64.b64decode(v["b64"]) if isinstance(v, dict) else v

    return {name: tf.constant([value(v) for v in body["instances"]], dtype=spec.dtype)}


def test_rest_b64_body_maps_onto_serving_bytes(
    loaded, requests, expected, assert_match
):
    body = json.loads(
        json.dumps(
            {
                "signature_name": "serving_bytes",
                "instances": [
                    {"b64": base64.b64encode(f).decode("ascii")}
                    for f in requests["bytes"]
                ],
            }
        )
    )
    signature = loaded["lficam"].signatures[body["signature_name"]]
    out = signature(**rest_to_inputs(body, signature))
    assert_match(out, expected["lficam"]["serving_bytes"])
