using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Pilot.Api.Control;

/// <summary>
/// Reads a JSON object body by hand so that every bad body gets the answer the policy asks for (422 with a problem
/// naming the fault, 413 over the limit) instead of minimal APIs' generic 400.
/// </summary>
internal static class RequestBodyReader
{
    public readonly record struct Outcome(List<KeyValuePair<string, JsonElement>>? Entries, ControlReply? Problem);

    public static async Task<Outcome> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, default, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            return new(null, Problems.Unprocessable($"the body is not valid JSON: {ex.Message}"));
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's verdict on the body itself: over the size limit (413) or malformed framing (400).
            return new(null, Problems.Result(ex.StatusCode, ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"the body is larger than {ControlPlane.MaxRequestBodyBytes} bytes"
                : ex.Message));
        }

        using (document)
        {
            var root = document.RootElement;
            // v3 treats a literal null as an empty object (no-op); clients may rely on it.
            if (root.ValueKind == JsonValueKind.Null)
            {
                return new([], null);
            }
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new(null, Problems.Unprocessable(
                    $"the body must be a JSON object, not {V3.EnvironmentBodyValidator.Describe(root)}"));
            }
            var entries = new List<KeyValuePair<string, JsonElement>>();
            foreach (var property in root.EnumerateObject())
            {
                // The parser checks structure, not text: invalid UTF-8 or an escaped lone surrogate ("\ud800") only
                // fails when a string is read, and neither can become an environment variable or a metric name.
                if (!TryReadText(() => property.Name, out var name))
                {
                    return new(null, Problems.Unprocessable($"a name in the body is not valid text: {NotText}"));
                }
                if (property.Value.ValueKind == JsonValueKind.String && !TryReadText(property.Value.GetString, out _))
                {
                    var message = $"the value of \"{V3.EnvironmentBodyValidator.Printable(name)}\" is not valid text: {NotText}";
                    return new(null, Problems.Unprocessable("the body has invalid entries", [new V3.ProblemError(name, message)]));
                }
                entries.Add(new(name, property.Value.Clone()));
            }
            return new(entries, null);
        }
    }

    private const string NotText = "invalid UTF-8 or a lone UTF-16 surrogate";

    private static bool TryReadText(Func<string?> read, out string text)
    {
        try
        {
            text = read() ?? "";
            return true;
        }
        catch (InvalidOperationException)
        {
            text = "";
            return false;
        }
    }
}
