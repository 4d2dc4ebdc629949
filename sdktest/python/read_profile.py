#!/usr/bin/env python3
"""Read the four Customer Profile fields the way the ASK SDK for Python does.

    python3 read_profile.py envelope.json      (or the envelope on stdin)

THIS IS NOT THE ALEXA SKILLS KIT SDK FOR PYTHON. PyPI is not reachable where
this check was written, so ask-sdk-core / ask-sdk-model could not be
installed. Instead this script uses only `requests` (the HTTP library the SDK
itself uses) and re-states, step by step, the code path the SDK takes for
UpsServiceClient.get_profile_name / get_profile_given_name /
get_profile_email / get_profile_mobile_number, from the SDK's source:

  ask-sdk-model  ask_sdk_model/services/ups/ups_service_client.py
                 (headers: Content-type: application/json and
                 Authorization: Bearer {apiAccessToken}; response type "str"
                 for the three strings, ups.phone_number.PhoneNumber for the
                 mobile number, ups.error.Error for 204/401/403/429/0)
  ask-sdk-model  ask_sdk_model/services/base_service_client.py
                 BaseServiceClient.invoke (2xx: a 204 with an empty body
                 gives body None, anything else is deserialized; non-2xx:
                 a listed status raises ServiceException with the body
                 deserialized as ups.Error, an unlisted one "Unknown error"
                 with the raw body; a transport failure is a ServiceException
                 with status 500)
  ask-sdk-core   ask_sdk_core/api_client.py DefaultApiClient.invoke
                 (refuses any non-https URL; requests.get(url=..., headers=...,
                 data=None); passes on status_code and response.text)
  ask-sdk-core   ask_sdk_core/serialize.py DefaultSerializer.deserialize
                 (json.loads, then str(value) for "str", a model object for
                 PhoneNumber/Error, Enum(value) for ups.ErrorCode; any failure
                 is a SerializationException)

So a pass here shows that what our server sends survives the same `requests`
call and the same deserialization rules; it does not exercise the SDK's own
code. Trust a local CA with REQUESTS_CA_BUNDLE, as a skill's operator would.

Output, one JSON object on stdout, per field:
  {"ok": true, "type": "str" | "PhoneNumber" | "NoneType", "value": ..., "httpStatus": 200}
  {"ok": false, "httpStatus": 403, "error": {"name": "ServiceException" | "SerializationException",
                                             "statusCode": ..., "message": ..., "body": ...}}
A PhoneNumber's value is {"country_code": ..., "phone_number": ...}, the
attributes a skill reads, plus any extra keys the payload carried.
"""

import json
import sys
from urllib.parse import urlsplit

import requests

# (our field name, SDK resource path, SDK response type)
OPERATIONS = [
    ("name", "/v2/accounts/~current/settings/Profile.name", "str"),
    ("givenName", "/v2/accounts/~current/settings/Profile.givenName", "str"),
    ("email", "/v2/accounts/~current/settings/Profile.email", "str"),
    ("mobileNumber", "/v2/accounts/~current/settings/Profile.mobileNumber", "PhoneNumber"),
]

# The statuses ups_service_client.py lists for each of the four operations,
# with the ServiceException message it raises for each.
ERROR_DEFINITIONS = {
    204: "The query did not return any results.",
    401: "The authentication token is malformed or invalid.",
    403: "The authentication token does not have access to resource.",
    429: "The skill has been throttled due to an excessive number of requests.",
    0: "An unexpected error occurred.",
}

# ask_sdk_model.services.ups.error_code.ErrorCode: the only codes the SDK's
# Error model can hold (the same list as ask-sdk-model for Node.js 1.86.0,
# services.ups.ErrorCode). Any other code makes deserialization fail.
UPS_ERROR_CODES = {
    "INVALID_KEY", "INVALID_VALUE", "INVALID_TOKEN", "INVALID_URI",
    "DEVICE_UNREACHABLE", "UNKNOWN_ERROR",
}

# ups.PhoneNumber's attribute_map: attribute -> JSON key.
PHONE_NUMBER_ATTRIBUTES = {"country_code": "countryCode", "phone_number": "phoneNumber"}


class ServiceException(Exception):
    def __init__(self, message, status_code, body):
        super().__init__(message)
        self.message, self.status_code, self.body = message, status_code, body


class SerializationException(Exception):
    pass


def deserialize(text, obj_type):
    """DefaultSerializer.deserialize for the types these operations use."""
    if text is None:
        return None
    try:
        payload = json.loads(text)
    except Exception:
        raise SerializationException("Couldn't parse response body: {}".format(text))
    if payload is None:
        return None
    if obj_type == "str":
        return str(payload)  # a dict becomes "{'email': '...'}", as in the SDK
    if obj_type == "PhoneNumber":
        return model(payload, PHONE_NUMBER_ATTRIBUTES, {"country_code": "str", "phone_number": "str"})
    if obj_type == "Error":
        return model(payload, {"code": "code", "message": "message"}, {"code": "ErrorCode", "message": "str"})
    raise AssertionError(obj_type)


def model(payload, attribute_map, types):
    """DefaultSerializer.__deserialize_model: set each mapped attribute
    present in the payload, then copy any unmapped key as it is."""
    try:
        obj = {}
        for attr, key in attribute_map.items():
            if key in payload:
                obj[attr] = convert(payload[key], types[attr])
        for key in payload:
            if key not in attribute_map.values():
                obj[key] = payload[key]
        return obj
    except SerializationException:
        raise
    except Exception as e:
        raise SerializationException(str(e))


def convert(value, typ):
    if value is None:
        return None
    if typ == "str":
        return str(value)
    if typ == "ErrorCode":
        # ErrorCode(value): an Enum raises ValueError for a value it lacks,
        # which __deserialize_model turns into a SerializationException.
        if value not in UPS_ERROR_CODES:
            raise SerializationException("'{}' is not a valid ErrorCode".format(value))
        return value
    raise AssertionError(typ)


def invoke(api_endpoint, token, path, response_type):
    """BaseServiceClient.invoke over DefaultApiClient.invoke."""
    url = (api_endpoint[:-1] if api_endpoint.endswith("/") else api_endpoint) + path
    headers = {"Content-type": "application/json", "Authorization": "Bearer " + token}
    try:
        if urlsplit(url).scheme != "https":
            raise Exception("Requests against non-HTTPS endpoints are not allowed.")
        try:
            response = requests.get(url=url, headers=headers, data=None)
        except Exception as e:
            raise Exception("Error executing the request: {}".format(e))
    except Exception as e:
        raise ServiceException("Call to service failed: {}".format(e), 500, None)
    status, text = response.status_code, response.text
    try:
        if 200 <= status < 300:
            if status == 204 and not text:
                return status, None
            return status, deserialize(text, response_type)
        if status in ERROR_DEFINITIONS:
            body = deserialize(text, "Error")
            raise ServiceException(ERROR_DEFINITIONS[status], status, body)
    except SerializationException as e:
        e.http_status = status  # not in the SDK's exception; for the report
        raise
    raise ServiceException("Unknown error", status, text)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "-" else None
    envelope = json.load(open(path, encoding="utf-8") if path else sys.stdin)
    system = envelope["context"]["System"]
    endpoint, token = system["apiEndpoint"], system["apiAccessToken"]
    results = {}
    for field, resource, response_type in OPERATIONS:
        try:
            status, value = invoke(endpoint, token, resource, response_type)
            typ = type(value).__name__ if not isinstance(value, dict) else "PhoneNumber"
            results[field] = {"ok": True, "type": typ, "value": value, "httpStatus": status}
        except ServiceException as e:
            results[field] = {"ok": False, "httpStatus": e.status_code, "error": {
                "name": "ServiceException", "statusCode": e.status_code, "message": e.message, "body": e.body}}
        except SerializationException as e:
            # What the skill would see instead of a ServiceException. The
            # HTTP status is reported beside it for the caller's benefit.
            results[field] = {"ok": False, "httpStatus": getattr(e, "http_status", None), "error": {
                "name": "SerializationException", "message": str(e)}}
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
