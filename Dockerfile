# Pilot as a container's init. Build: docker build -t pilot .  Use it as a base, or copy /usr/local/bin/pilot into any
# image (Alpine, Debian, scratch: the binary is statically linked and needs nothing of the image; README "Use Pilot in
# your image"). The build stage runs scripts/publish, the same script CI runs.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN ./scripts/publish

FROM debian:bookworm-slim
# Only for HTTPS to a Consul agent or an https health check: the static binary loads this image's glibc libssl at run
# time (no TLS library is linked in), and verifies certificates against ca-certificates. Plain http needs neither.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/artifacts/pilot /usr/local/bin/pilot
ENV CONTAINERPILOT=/etc/containerpilot.json5
HEALTHCHECK --interval=30s --timeout=5s CMD ["/usr/local/bin/pilot", "-ping"]
ENTRYPOINT ["/usr/local/bin/pilot"]
CMD ["-config", "/etc/containerpilot.json5"]
