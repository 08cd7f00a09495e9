using System.Collections.Immutable;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Pilot.ConsulTestAgent;

/// <summary>Consul's HTTP endpoints over <see cref="AgentState"/>: routing, request decoding, response shapes.</summary>
internal sealed class AgentHttpApi(AgentState state)
{
    private static readonly TimeSpan DefaultWait = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(10);

    private ConsulTestAgentOptions Options => state.Options;

    public async Task HandleAsync(HttpContext context, string body)
    {
        var path = context.Request.Path.Value ?? "";
        var method = context.Request.Method;
        var ct = context.RequestAborted;
        switch (Route(path, out var arg))
        {
            case "register" when method == "PUT":
                await RegisterAsync(context, body).ConfigureAwait(false);
                break;
            case "deregister" when method == "PUT":
                if (state.Deregister(arg))
                {
                    context.Response.StatusCode = 200;
                }
                else
                {
                    await TextAsync(context, 404, $"Unknown service ID \"{arg}\". Ensure that the service ID is passed, not the service name.").ConfigureAwait(false);
                }
                break;
            case "pass" or "warn" or "fail" when method == "PUT":
                var status = Route(path, out _) switch { "pass" => CheckStatus.Passing, "warn" => CheckStatus.Warning, _ => CheckStatus.Critical };
                await UpdateAsync(context, arg, status, context.Request.Query["note"].ToString()).ConfigureAwait(false);
                break;
            case "update" when method == "PUT":
                await UpdateFromBodyAsync(context, arg, body).ConfigureAwait(false);
                break;
            case "services" when method == "GET":
                await JsonAsync(context, w =>
                {
                    w.WriteStartObject();
                    foreach (var s in state.Services)
                    {
                        w.WritePropertyName(s.Id);
                        WriteAgentService(w, s);
                    }
                    w.WriteEndObject();
                }).ConfigureAwait(false);
                break;
            case "checks" when method == "GET":
                await JsonAsync(context, w =>
                {
                    w.WriteStartObject();
                    foreach (var c in state.Checks)
                    {
                        w.WritePropertyName(c.CheckId);
                        WriteCheck(w, c);
                    }
                    w.WriteEndObject();
                }).ConfigureAwait(false);
                break;
            case "health" when method == "GET":
                await HealthServiceAsync(context, arg, ct).ConfigureAwait(false);
                break;
            case "catalog" when method == "GET":
                await CatalogServiceAsync(context, arg, ct).ConfigureAwait(false);
                break;
            case "leader" when method == "GET":
                await JsonAsync(context, w => w.WriteStringValue("127.0.0.1:8300")).ConfigureAwait(false);
                break;
            case null:
                await TextAsync(context, 404, "404 page not found\n").ConfigureAwait(false);
                break;
            default:
                await TextAsync(context, 405, $"method {method} not allowed").ConfigureAwait(false);
                break;
        }
    }

    private static string? Route(string path, out string arg)
    {
        arg = "";
        (string Prefix, string Name, bool HasArg)[] routes =
        [
            ("/v1/agent/service/register", "register", false),
            ("/v1/agent/service/deregister/", "deregister", true),
            ("/v1/agent/check/pass/", "pass", true),
            ("/v1/agent/check/warn/", "warn", true),
            ("/v1/agent/check/fail/", "fail", true),
            ("/v1/agent/check/update/", "update", true),
            ("/v1/agent/services", "services", false),
            ("/v1/agent/checks", "checks", false),
            ("/v1/health/service/", "health", true),
            ("/v1/catalog/service/", "catalog", true),
            ("/v1/status/leader", "leader", false),
        ];
        foreach (var (prefix, name, hasArg) in routes)
        {
            if (hasArg && path.StartsWith(prefix, StringComparison.Ordinal) && path.Length > prefix.Length)
            {
                arg = Uri.UnescapeDataString(path[prefix.Length..]);
                return name;
            }
            if (!hasArg && path == prefix)
            {
                return name;
            }
        }
        return null;
    }

    private async Task RegisterAsync(HttpContext context, string body)
    {
        AgentService service;
        List<AgentCheck> checks = [];
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            var name = Str(root, "Name");
            if (string.IsNullOrEmpty(name))
            {
                await TextAsync(context, 400, "Missing service name").ConfigureAwait(false);
                return;
            }
            var id = Str(root, "ID") is { Length: > 0 } given ? given : name;
            service = new AgentService
            {
                Id = id,
                Name = name,
                Tags = Get(root, "Tags") is { ValueKind: JsonValueKind.Array } tags ? [.. tags.EnumerateArray().Select(t => t.GetString() ?? "")] : [],
                Address = Str(root, "Address") ?? "",
                Port = Get(root, "Port") is { ValueKind: JsonValueKind.Number } port ? port.GetInt32() : 0,
                EnableTagOverride = Get(root, "EnableTagOverride") is { ValueKind: JsonValueKind.True },
                Meta = Get(root, "Meta") is { ValueKind: JsonValueKind.Object } meta
                    ? meta.EnumerateObject().ToImmutableDictionary(p => p.Name, p => p.Value.GetString() ?? "") : ImmutableDictionary<string, string>.Empty,
            };
            var definitions = new List<JsonElement>();
            if (Get(root, "Check") is { ValueKind: JsonValueKind.Object } single)
            {
                definitions.Add(single);
            }
            if (Get(root, "Checks") is { ValueKind: JsonValueKind.Array } many)
            {
                definitions.AddRange(many.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object));
            }
            for (var i = 0; i < definitions.Count; i++)
            {
                var (check, error) = ParseCheck(definitions[i], id, name, definitions.Count > 1 ? i + 1 : 0);
                if (error is not null)
                {
                    await TextAsync(context, 400, error).ConfigureAwait(false);
                    return;
                }
                checks.Add(check!);
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            await TextAsync(context, 400, $"Request decode failed: {ex.Message}").ConfigureAwait(false);
            return;
        }
        state.Register(service, checks);
        context.Response.StatusCode = 200;
    }

    private (AgentCheck? Check, string? Error) ParseCheck(JsonElement def, string serviceId, string serviceName, int ordinal)
    {
        var status = Str(def, "Status") ?? "";
        if (status.Length > 0 && !CheckStatus.IsValid(status))
        {
            return (null, "Status for checks must 'passing', 'warning', 'critical'");
        }
        TimeSpan? deregisterAfter = null;
        var dereg = Str(def, "DeregisterCriticalServiceAfter") ?? "";
        if (dereg.Length > 0)
        {
            if (!GoDuration.TryParse(dereg, out var d))
            {
                return (null, $"Request decode failed: time: invalid duration {dereg}");
            }
            deregisterAfter = d > TimeSpan.Zero ? d : null;
        }
        string type;
        TimeSpan? ttl = null;
        if (Str(def, "TTL") is { Length: > 0 } ttlText)
        {
            if (!GoDuration.TryParse(ttlText, out var t))
            {
                return (null, $"Request decode failed: time: invalid duration {ttlText}");
            }
            if (t <= TimeSpan.Zero)
            {
                return (null, "Invalid check: TTL must be > 0 for TTL checks");
            }
            ttl = t;
            type = "ttl";
        }
        else if (Str(def, "HTTP") is { Length: > 0 })
        {
            type = "http";
        }
        else if (Str(def, "TCP") is { Length: > 0 })
        {
            type = "tcp";
        }
        else if (Get(def, "Args") is { ValueKind: JsonValueKind.Array } || Str(def, "Script") is { Length: > 0 })
        {
            type = "script";
        }
        else
        {
            return (null, "Invalid check: TTL must be > 0 for TTL checks");
        }
        var checkId = Str(def, "CheckID") is { Length: > 0 } cid ? cid
            : ordinal > 0 ? $"service:{serviceId}:{ordinal}" : $"service:{serviceId}";
        return (new AgentCheck
        {
            CheckId = checkId,
            Name = Str(def, "Name") is { Length: > 0 } n ? n : $"Service '{serviceName}' check",
            Status = status.Length > 0 ? status : CheckStatus.Critical,
            Notes = Str(def, "Notes") ?? "",
            Type = type,
            Ttl = ttl,
            DeregisterCriticalServiceAfter = dereg,
            DeregisterAfter = deregisterAfter,
        }, null);
    }

    private async Task UpdateFromBodyAsync(HttpContext context, string checkId, string body)
    {
        string status;
        string output;
        try
        {
            using var doc = JsonDocument.Parse(body);
            status = Str(doc.RootElement, "Status") ?? "";
            output = Str(doc.RootElement, "Output") ?? "";
        }
        catch (JsonException ex)
        {
            await TextAsync(context, 400, $"Request decode failed: {ex.Message}").ConfigureAwait(false);
            return;
        }
        if (!CheckStatus.IsValid(status))
        {
            await TextAsync(context, 400, $"Invalid check status: \"{status}\"").ConfigureAwait(false);
            return;
        }
        await UpdateAsync(context, checkId, status, output).ConfigureAwait(false);
    }

    private async Task UpdateAsync(HttpContext context, string checkId, string status, string output)
    {
        switch (state.UpdateTtl(checkId, status, output))
        {
            case AgentState.UpdateResult.Updated:
                context.Response.StatusCode = 200;
                break;
            case AgentState.UpdateResult.UnknownCheck when !Options.LegacyUnknownCheck500:
                await TextAsync(context, 404, $"Unknown check ID \"{checkId}\". Ensure that the check ID is passed, not the check name.").ConfigureAwait(false);
                break;
            default:
                await TextAsync(context, 500, $"CheckID \"{checkId}\" does not have associated TTL").ConfigureAwait(false);
                break;
        }
    }

    private async Task HealthServiceAsync(HttpContext context, string name, CancellationToken ct)
    {
        if (!await BlockAsync(context, name, ct).ConfigureAwait(false))
        {
            return;
        }
        var query = context.Request.Query;
        var passing = query.TryGetValue("passing", out var p) && (p.ToString().Length == 0 || ParseBool(p.ToString()));
        var tag = query.TryGetValue("tag", out var t) ? t.ToString() : null;
        var (entries, index) = state.HealthService(name, tag, passing);
        SetQueryHeaders(context, index);
        await JsonAsync(context, w =>
        {
            w.WriteStartArray();
            foreach (var e in entries)
            {
                w.WriteStartObject();
                w.WritePropertyName("Node");
                WriteNode(w);
                w.WritePropertyName("Service");
                WriteAgentService(w, e.Service);
                w.WritePropertyName("Checks");
                w.WriteStartArray();
                foreach (var c in e.Checks)
                {
                    WriteCheck(w, c);
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }).ConfigureAwait(false);
    }

    private async Task CatalogServiceAsync(HttpContext context, string name, CancellationToken ct)
    {
        if (!await BlockAsync(context, name, ct).ConfigureAwait(false))
        {
            return;
        }
        var tag = context.Request.Query.TryGetValue("tag", out var t) ? t.ToString() : null;
        var (entries, index) = state.HealthService(name, tag, passingOnly: false);
        SetQueryHeaders(context, index);
        await JsonAsync(context, w =>
        {
            w.WriteStartArray();
            foreach (var s in entries.Select(e => e.Service))
            {
                w.WriteStartObject();
                w.WriteString("ID", "");
                w.WriteString("Node", Options.NodeName);
                w.WriteString("Address", Options.NodeAddress);
                w.WriteString("Datacenter", Options.Datacenter);
                w.WriteStartObject("TaggedAddresses");
                w.WriteString("lan", Options.NodeAddress);
                w.WriteString("wan", Options.NodeAddress);
                w.WriteEndObject();
                w.WriteStartObject("NodeMeta");
                w.WriteEndObject();
                w.WriteString("ServiceID", s.Id);
                w.WriteString("ServiceName", s.Name);
                WriteStrings(w, "ServiceTags", s.Tags);
                w.WriteString("ServiceAddress", s.Address);
                w.WriteNumber("ServicePort", s.Port);
                w.WriteBoolean("ServiceEnableTagOverride", s.EnableTagOverride);
                WriteMeta(w, "ServiceMeta", s.Meta);
                w.WriteNumber("CreateIndex", s.CreateIndex);
                w.WriteNumber("ModifyIndex", s.ModifyIndex);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }).ConfigureAwait(false);
    }

    /// <summary>Validates <c>dc</c>, <c>index</c> and <c>wait</c> and blocks as Consul does. False when an error was answered.</summary>
    private async Task<bool> BlockAsync(HttpContext context, string name, CancellationToken ct)
    {
        var query = context.Request.Query;
        if (query.TryGetValue("dc", out var dc) && dc.ToString().Length > 0 && dc.ToString() != Options.Datacenter)
        {
            await TextAsync(context, 500, "No path to datacenter").ConfigureAwait(false);
            return false;
        }
        ulong minIndex = 0;
        if (query.TryGetValue("index", out var idx) && idx.ToString().Length > 0
            && !ulong.TryParse(idx.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out minIndex))
        {
            await TextAsync(context, 400, "Invalid index").ConfigureAwait(false);
            return false;
        }
        var wait = DefaultWait;
        if (query.TryGetValue("wait", out var w) && w.ToString().Length > 0)
        {
            if (!GoDuration.TryParse(w.ToString(), out wait))
            {
                await TextAsync(context, 400, "Invalid wait time").ConfigureAwait(false);
                return false;
            }
        }
        if (wait > MaxWait)
        {
            wait = MaxWait;
        }
        if (Options.WaitJitter)
        {
            wait += TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * (wait.Ticks / 16)));
        }
        await state.WaitForServiceIndexAsync(name, minIndex, wait, ct).ConfigureAwait(false);
        return true;
    }

    private static void SetQueryHeaders(HttpContext context, ulong index)
    {
        context.Response.Headers["X-Consul-Index"] = index.ToString(CultureInfo.InvariantCulture);
        context.Response.Headers["X-Consul-KnownLeader"] = "true";
        context.Response.Headers["X-Consul-LastContact"] = "0";
    }

    private void WriteNode(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("ID", "2a7b5b2b-0000-4000-8000-000000000001");
        w.WriteString("Node", Options.NodeName);
        w.WriteString("Address", Options.NodeAddress);
        w.WriteString("Datacenter", Options.Datacenter);
        w.WriteStartObject("TaggedAddresses");
        w.WriteString("lan", Options.NodeAddress);
        w.WriteString("wan", Options.NodeAddress);
        w.WriteEndObject();
        w.WriteStartObject("Meta");
        w.WriteEndObject();
        w.WriteNumber("CreateIndex", 5);
        w.WriteNumber("ModifyIndex", 5);
        w.WriteEndObject();
    }

    private static void WriteAgentService(Utf8JsonWriter w, AgentService s)
    {
        w.WriteStartObject();
        w.WriteString("ID", s.Id);
        w.WriteString("Service", s.Name);
        WriteStrings(w, "Tags", s.Tags);
        WriteMeta(w, "Meta", s.Meta);
        w.WriteNumber("Port", s.Port);
        w.WriteString("Address", s.Address);
        w.WriteStartObject("Weights");
        w.WriteNumber("Passing", 1);
        w.WriteNumber("Warning", 1);
        w.WriteEndObject();
        w.WriteBoolean("EnableTagOverride", s.EnableTagOverride);
        w.WriteNumber("CreateIndex", s.CreateIndex);
        w.WriteNumber("ModifyIndex", s.ModifyIndex);
        w.WriteEndObject();
    }

    private void WriteCheck(Utf8JsonWriter w, AgentCheck c)
    {
        w.WriteStartObject();
        w.WriteString("Node", Options.NodeName);
        w.WriteString("CheckID", c.CheckId);
        w.WriteString("Name", c.Name);
        w.WriteString("Status", c.Status);
        w.WriteString("Notes", c.Notes);
        w.WriteString("Output", c.Output);
        w.WriteString("ServiceID", c.ServiceId);
        w.WriteString("ServiceName", c.ServiceName);
        WriteStrings(w, "ServiceTags", c.ServiceTags);
        w.WriteString("Type", c.Type);
        w.WriteStartObject("Definition");
        if (c.Ttl is { } ttl)
        {
            w.WriteString("TTL", $"{(long)ttl.TotalSeconds}s");
        }
        if (c.DeregisterCriticalServiceAfter.Length > 0)
        {
            w.WriteString("DeregisterCriticalServiceAfter", c.DeregisterCriticalServiceAfter);
        }
        w.WriteEndObject();
        w.WriteNumber("CreateIndex", c.CreateIndex);
        w.WriteNumber("ModifyIndex", c.ModifyIndex);
        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, ImmutableArray<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteStringValue(v);
        }
        w.WriteEndArray();
    }

    private static void WriteMeta(Utf8JsonWriter w, string name, ImmutableDictionary<string, string> meta)
    {
        w.WriteStartObject(name);
        foreach (var (k, v) in meta)
        {
            w.WriteString(k, v);
        }
        w.WriteEndObject();
    }

    private static async Task JsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(writer);
        }
        await context.Response.Body.WriteAsync(buffer.ToArray(), context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task TextAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(text, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Consul decodes request bodies case-insensitively.</summary>
    private static JsonElement? Get(JsonElement obj, string name)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        foreach (var p in obj.EnumerateObject())
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return p.Value;
            }
        }
        return null;
    }

    private static string? Str(JsonElement obj, string name) =>
        Get(obj, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    private static bool ParseBool(string s) => s is "1" or "t" or "T" or "TRUE" or "true" or "True";
}
