"""The pmm.v1 messages and gRPC stubs, generated from proto/pmm/v1 by
client/python/generate.py. Do not edit: regenerate."""
