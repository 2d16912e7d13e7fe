# The ctsync operator image. Build from the repository root: docker build -t ctsync .

# Builder: installs ctsync and its pinned dependencies into a virtualenv. Every dependency ships
# wheels, so no compiler is needed here either.
FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY operator/ operator/
# operator/ctsync/data/ links to these: the package ships the CRDs (ctsync validate) and the demo's example.
COPY crds/ crds/
COPY examples/tenants/contoso-to-fabrikam/ examples/tenants/contoso-to-fabrikam/
RUN python -m venv /opt/venv
RUN /opt/venv/bin/pip install --no-cache-dir -c constraints.txt .

# Final stage: the virtualenv on a clean base, no pip cache, no sources, no build tools.
FROM python:3.11-slim
# A named user, because libraries that ask for the user name (getpass) fail on a bare uid.
RUN useradd --uid 65532 --user-group --no-create-home --home-dir /tmp --shell /usr/sbin/nologin ctsync
COPY --from=builder /opt/venv /opt/venv
# pip compiled the .pyc files at install time; the root filesystem is read-only at run time.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["ctsync"]
CMD ["operator"]
