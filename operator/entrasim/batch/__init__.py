"""JSON batching: POST /$batch runs up to 20 requests, in order where dependsOn asks."""
