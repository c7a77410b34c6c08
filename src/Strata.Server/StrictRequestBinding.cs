using System.Text.Unicode;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace Strata.Server;

/// <summary>
/// The endpoint type <c>strata.v1.Strata</c> is mapped under. It carries no logic: its methods are bound by
/// <see cref="StrictRequestMethodProvider"/> to the <see cref="StrataService"/> singleton.
/// </summary>
/// <remarks>
/// Why not map <see cref="StrataService"/> directly: a request that does not parse (a string field holding
/// invalid UTF-8, truncated bytes) fails inside the generated marshaller, before interceptors or the service
/// run, and gRPC reports it as UNKNOWN "Exception was thrown by handler.". Binding the same methods with
/// request marshallers that translate parse failures into INVALID_ARGUMENT needs an endpoint type that the
/// default binder does not also bind.
/// </remarks>
internal sealed class StrataEndpoint;

/// <summary>Binds every method of <c>strata.v1.Strata</c> to the service, with <see cref="StrictRequests"/> marshallers.</summary>
internal sealed class StrictRequestMethodProvider(StrataService service) : IServiceMethodProvider<StrataEndpoint>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<StrataEndpoint> context) =>
        Api.V1.Strata.BindService(new Binder(context), service);

    private sealed class Binder(ServiceMethodProviderContext<StrataEndpoint> context) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
        {
            ArgumentNullException.ThrowIfNull(handler);
            var strict = new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name,
                StrictRequests.Wrap(method.RequestMarshaller), method.ResponseMarshaller);
            context.AddUnaryMethod(strict, [], (_, request, callContext) => handler(request, callContext));
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            throw new NotSupportedException($"{method.FullName}: strata.v1 has unary methods only");

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            throw new NotSupportedException($"{method.FullName}: strata.v1 has unary methods only");

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            throw new NotSupportedException($"{method.FullName}: strata.v1 has unary methods only");
    }
}

/// <summary>
/// Request marshallers that report an unparsable request as INVALID_ARGUMENT, naming the field whose string is
/// not UTF-8 when that is the reason (Google.Protobuf refuses such strings while parsing, as proto3 requires).
/// </summary>
internal static class StrictRequests
{
    public static Marshaller<T> Wrap<T>(Marshaller<T> inner)
    {
        MessageDescriptor descriptor = ((IMessage)Activator.CreateInstance(typeof(T))!).Descriptor;
        return new Marshaller<T>(inner.ContextualSerializer, context =>
        {
            try
            {
                return inner.ContextualDeserializer(context);
            }
            catch (InvalidProtocolBufferException e)
            {
                string message = FindInvalidUtf8(context.PayloadAsNewBuffer(), descriptor, "") is { } field
                    ? $"field '{field}' of {descriptor.FullName} is not valid UTF-8; protobuf strings must be UTF-8"
                    : $"the request is not a valid {descriptor.FullName}: {e.Message}";
                throw new RpcException(new Status(StatusCode.InvalidArgument, message), message);
            }
        });
    }

    /// <summary>
    /// The dotted name of the first string field (at any depth, map keys and values included) whose bytes are
    /// not UTF-8, or null. Walks the wire format with the descriptor; stops quietly on anything malformed.
    /// </summary>
    public static string? FindInvalidUtf8(byte[] payload, MessageDescriptor descriptor, string prefix)
    {
        try
        {
            var input = new CodedInputStream(payload);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                FieldDescriptor? field = descriptor.FindFieldByNumber(WireFormat.GetTagFieldNumber(tag));
                if (field is null || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
                {
                    input.SkipLastField();
                    continue;
                }

                string name = prefix + field.Name;
                switch (field.FieldType)
                {
                    case FieldType.String:
                        if (!Utf8.IsValid(input.ReadBytes().Span))
                        {
                            return name;
                        }

                        break;
                    case FieldType.Message when FindInvalidUtf8(input.ReadBytes().ToByteArray(), field.MessageType, name + ".") is { } nested:
                        return nested;
                    case FieldType.Message:
                        break;
                    default:
                        input.SkipLastField();
                        break;
                }
            }
        }
        catch (InvalidProtocolBufferException)
        {
            // Malformed beyond strings: the caller reports the parser's own message.
        }

        return null;
    }
}
