"""Application templates, applications, service principals and app role assignments."""
