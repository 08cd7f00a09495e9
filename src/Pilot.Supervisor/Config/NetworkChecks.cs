namespace Pilot.Supervisor.Config;

/// <summary>Pilot extension <c>health.http</c> / <c>health.status</c>: GET <see cref="Url"/>; a status in <see cref="Status"/> passes.</summary>
public sealed record HttpCheckConfig(Uri Url, StatusRange Status);

/// <summary>Pilot extension <c>health.tcp</c>: a connection to <see cref="Host"/>:<see cref="Port"/> that is accepted passes.</summary>
public sealed record TcpCheckConfig(string Host, int Port)
{
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>An inclusive range of HTTP status codes (<c>health.status</c>: <c>"200-299"</c> or <c>204</c>).</summary>
public readonly record struct StatusRange(int Min, int Max)
{
    /// <summary>Kubernetes' httpGet rule: any 2xx or 3xx (redirects are not followed).</summary>
    public static readonly StatusRange Default = new(200, 399);

    public bool Contains(int status) => status >= Min && status <= Max;

    public override string ToString() => Min == Max ? $"{Min}" : $"{Min}-{Max}";
}
