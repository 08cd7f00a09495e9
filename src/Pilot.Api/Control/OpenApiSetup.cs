using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.OpenApi;
using Pilot.Api.Hosting;
using Pilot.Api.V3;

namespace Pilot.Api.Control;

/// <summary>A JSON example for an operation's request (<see cref="StatusCode"/> null) or for one response.</summary>
public sealed record OpenApiExample(int? StatusCode, string Json)
{
    public static OpenApiExample Request(string json) => new(null, json);

    public static OpenApiExample Response(int statusCode, string json) => new(statusCode, json);
}

/// <summary>
/// The control plane described as minimal APIs (<see cref="V3Endpoints.MapV3Endpoints"/>), served with the OpenAPI
/// document Microsoft.AspNetCore.OpenApi generates from that description. This is where <c>openapi/pilot.v3.json</c>
/// comes from (OpenApiDocumentTests compares, and with <c>PILOT_UPDATE_OPENAPI=1</c> rewrites, the file); the binary
/// embeds the file and never runs this, so its generator costs Pilot nothing at start-up.
/// </summary>
public static class ControlPlaneDocumentation
{
    /// <summary>A web application on <paramref name="listener"/> serving the generated document at <c>/openapi/v3.json</c>.</summary>
    public static WebApplication Build(ControlListener listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        var builder = IsolatedWebHost.CreateBuilder(Environments.Production);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenHandle(listener.KestrelHandle));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, PilotApiJsonContext.Default));
        builder.Services.AddRouting();
        builder.Services.AddPilotOpenApi();
        var app = builder.Build();
        app.MapV3Endpoints();
        app.MapOpenApi(OpenApiSetup.DocumentPath);
        return app;
    }
}

/// <summary>The OpenAPI document of the control plane (<c>/openapi/v3.json</c>), stable enough to check in.</summary>
internal static class OpenApiSetup
{
    public const string DocumentName = OpenApiDocument.DocumentName;
    public const string DocumentPath = ControlRoutes.OpenApiTemplate;

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
