# Pilot as a container's init. Build: docker build -t pilot .  Use it as a base, or copy /usr/local/bin/pilot into any
# image (Alpine, Debian, scratch: the binary is statically linked and needs nothing of the image; README "Use Pilot in
# your image"). The build stage runs scripts/publish, the same script CI runs.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN ./scripts/publish

FROM debian:bookworm-slim
# Nothing to install: the binary is static and has no TLS (README "Use Pilot in your image"), so no libssl either.
COPY --from=build /src/artifacts/pilot /usr/local/bin/pilot
ENV CONTAINERPILOT=/etc/containerpilot.json5
HEALTHCHECK --interval=30s --timeout=5s CMD ["/usr/local/bin/pilot", "-ping"]
ENTRYPOINT ["/usr/local/bin/pilot"]
CMD ["-config", "/etc/containerpilot.json5"]
