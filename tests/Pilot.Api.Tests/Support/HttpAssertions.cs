using System.Net;
using System.Text;
using System.Text.Json;

namespace Pilot.Api.Tests.Support;

internal static class Http
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>The status and the parsed JSON body of a reply.</summary>
    public static async Task<(HttpStatusCode Status, JsonElement Body, string? ContentType)> SendJsonAsync(
        this HttpClient client, HttpMethod method, string path, string? json, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : Json(json) };
        using var response = await client.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, body, response.Content.Headers.ContentType?.MediaType);
    }

    public static Task<(HttpStatusCode Status, JsonElement Body, string? ContentType)> PostJsonAsync(
        this HttpClient client, string path, string? json, CancellationToken cancellationToken) =>
        client.SendJsonAsync(HttpMethod.Post, path, json, cancellationToken);

    public static Task<(HttpStatusCode Status, JsonElement Body, string? ContentType)> GetJsonAsync(
        this HttpClient client, string path, CancellationToken cancellationToken) =>
        client.SendJsonAsync(HttpMethod.Get, path, null, cancellationToken);

    /// <summary>The <c>message</c> of every entry of a problem's <c>errors</c>.</summary>
    public static string[] ProblemMessages(this JsonElement problem) =>
        problem.TryGetProperty("errors", out var errors) ? [.. errors.EnumerateArray().Select(e => e.GetProperty("message").GetString()!)] : [];
}
