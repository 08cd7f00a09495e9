using Microsoft.AspNetCore.Http;

namespace Pilot.Api.Control;

/// <summary>
/// The OpenAPI document the control plane serves at <c>/openapi/v3.json</c>: <c>openapi/pilot.v3.json</c>, embedded in
/// the binary at build time. The file is generated from the handlers' descriptions (<see cref="ControlPlaneDocumentation"/>);
/// OpenApiDocumentTests fail when it is stale and rewrite it with <c>PILOT_UPDATE_OPENAPI=1</c>.
/// </summary>
internal static class OpenApiDocument
{
    public const string DocumentName = "v3";
    public const string ResourceName = "pilot.v3.json";
    private const string ContentType = "application/json;charset=utf-8";

    private static readonly Lazy<byte[]> Document = new(Load);

    public static Task WriteAsync(HttpContext context, string documentName)
    {
        if (!string.Equals(documentName, DocumentName, StringComparison.Ordinal))
        {
            return Problems.WriteAsync(context, StatusCodes.Status404NotFound, $"no route for {context.Request.Path}");
        }
        var document = Document.Value;
        context.Response.ContentType = ContentType;
        context.Response.ContentLength = document.Length;
        return context.Response.Body.WriteAsync(document, context.RequestAborted).AsTask();
    }

    private static byte[] Load()
    {
        using var stream = typeof(OpenApiDocument).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the embedded {ResourceName} is missing from the build");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
