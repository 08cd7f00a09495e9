FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN ./scripts/publish

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/artifacts/pilot /usr/local/bin/pilot
COPY examples/autopilot/serve.py /opt/app/serve.py
COPY examples/autopilot/app.json5 /etc/containerpilot.json5
ENV CONTAINERPILOT=/etc/containerpilot.json5
HEALTHCHECK CMD ["/usr/local/bin/pilot", "-ping"]
ENTRYPOINT ["/usr/local/bin/pilot"]
CMD ["-config", "/etc/containerpilot.json5"]
