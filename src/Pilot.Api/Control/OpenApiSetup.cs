using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace Pilot.Api.Control;

/// <summary>A JSON example for an operation's request (<see cref="StatusCode"/> null) or for one response.</summary>
public sealed record OpenApiExample(int? StatusCode, string Json)
{
    public static OpenApiExample Request(string json) => new(null, json);

    public static OpenApiExample Response(int statusCode, string json) => new(statusCode, json);
}

/// <summary>The OpenAPI document of the control plane (<c>/openapi/v3.json</c>), stable enough to check in.</summary>
internal static class OpenApiSetup
{
    public const string DocumentName = "v3";
    public const string DocumentPath = "/openapi/{documentName}.json";

    public static void AddPilotOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Pilot control plane",
                    Version = "v3",
                    Description =
                        "HTTP/1.1 on Pilot's Unix socket (control.socket). Paths and methods are ContainerPilot v3's; "
                        + "failures answer RFC 7807 problem JSON. Clients use the host name `control`.",
                };
                // The generated server list would echo the request's host; pin it so the document is stable.
                document.Servers = [new OpenApiServer { Url = "http://control" }];
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                operation.RequestBody?.Content?.Remove(V3Endpoints.AnyContentType);
                foreach (var example in context.Description.ActionDescriptor.EndpointMetadata.OfType<OpenApiExample>())
                {
                    var content = example.StatusCode is { } status
                        ? operation.Responses?.GetValueOrDefault(status.ToString(System.Globalization.CultureInfo.InvariantCulture))?.Content
                        : operation.RequestBody?.Content;
                    if (content is null)
                    {
                        continue;
                    }
                    foreach (var media in content.Values)
                    {
                        media.Example = JsonNode.Parse(example.Json);
                    }
                }
                return Task.CompletedTask;
            });
        });
}
