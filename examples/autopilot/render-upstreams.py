"""Writes upstreams.conf from the passing `app` instances in Consul (what consul-template does in larger setups)."""
import json
import os
import urllib.request

consul = os.environ.get("CONSUL", "consul:8500")
target = os.path.join(os.environ.get("NGINX_DIR", "/etc/nginx"), "upstreams.conf")
with urllib.request.urlopen(f"http://{consul}/v1/health/service/app?passing=1", timeout=5) as answer:
    instances = json.load(answer)
servers = [f"    server {i['Service']['Address']}:{i['Service']['Port']};" for i in instances]
# An upstream needs a server: a closed port marked down makes nginx answer 502 until an app exists.
lines = ["upstream app {"] + (servers or ["    server 127.0.0.1:1 down;"]) + ["}"]
with open(target + ".tmp", "w") as out:
    out.write("\n".join(lines) + "\n")
os.replace(target + ".tmp", target)
print(f"upstreams: {len(servers)} app instance(s)")
