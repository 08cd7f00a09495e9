using System.Text.Json.Serialization;

namespace Pilot.Supervisor.Discovery.Consul;

// Wire shapes with Consul's field names. Property order is the Go struct order v3's Consul API (1.0.1) encodes,
// and the ignore conditions reproduce Go's `omitempty`.

internal sealed class RegisterBody
{
    [JsonPropertyName("ID"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Id { get; init; }

    [JsonPropertyName("Name"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; init; }

    [JsonPropertyName("Tags"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string[]? Tags { get; init; }

    [JsonPropertyName("Port"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Port { get; init; }

    [JsonPropertyName("Address"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Address { get; init; }

    [JsonPropertyName("EnableTagOverride"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool EnableTagOverride { get; init; }

    /// <summary>A Go pointer without omitempty: <c>null</c> when absent.</summary>
    [JsonPropertyName("Check"), JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public CheckBody? Check { get; init; }

    /// <summary>Never set by v3: always <c>"Checks":null</c>.</summary>
    [JsonPropertyName("Checks"), JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public CheckBody[]? Checks { get; init; }
}

internal sealed class CheckBody
{
    [JsonPropertyName("TTL"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Ttl { get; init; }

    [JsonPropertyName("Status"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Status { get; init; }

    [JsonPropertyName("Notes"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Notes { get; init; }

    [JsonPropertyName("DeregisterCriticalServiceAfter"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DeregisterCriticalServiceAfter { get; init; }
}

internal sealed class CheckUpdateBody
{
    [JsonPropertyName("Status")]
    public string Status { get; init; } = "";

    [JsonPropertyName("Output")]
    public string Output { get; init; } = "";
}

internal sealed class ServiceEntryWire
{
    [JsonPropertyName("Node")]
    public NodeWire? Node { get; init; }

    [JsonPropertyName("Service")]
    public AgentServiceWire? Service { get; init; }

    [JsonPropertyName("Checks")]
    public CheckWire[]? Checks { get; init; }
}

internal sealed class NodeWire
{
    [JsonPropertyName("Node")]
    public string? Node { get; init; }

    [JsonPropertyName("Address")]
    public string? Address { get; init; }
}

internal sealed class AgentServiceWire
{
    [JsonPropertyName("ID")]
    public string? Id { get; init; }

    [JsonPropertyName("Service")]
    public string? Service { get; init; }

    [JsonPropertyName("Tags")]
    public string[]? Tags { get; init; }

    [JsonPropertyName("Address")]
    public string? Address { get; init; }

    [JsonPropertyName("Port")]
    public int Port { get; init; }
}

internal sealed class CheckWire
{
    [JsonPropertyName("CheckID")]
    public string? CheckId { get; init; }

    [JsonPropertyName("Status")]
    public string? Status { get; init; }

    [JsonPropertyName("ServiceID")]
    public string? ServiceId { get; init; }
}

[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Default)]
[JsonSerializable(typeof(RegisterBody))]
[JsonSerializable(typeof(CheckUpdateBody))]
[JsonSerializable(typeof(ServiceEntryWire[]))]
[JsonSerializable(typeof(Dictionary<string, AgentServiceWire>))]
internal sealed partial class ConsulJsonContext : JsonSerializerContext;
