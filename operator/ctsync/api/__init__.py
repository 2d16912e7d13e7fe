"""The ctsync.io/v1alpha1 API: constants, status conditions and typed models of the custom resources."""
