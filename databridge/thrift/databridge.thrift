// The WSO2 data-bridge Thrift interface, written from the facts of
// REFERENCE §1: what a stock API-M 3.x gateway's analytics agent calls.
// Field ids and exception ids are part of the wire format and must not change.
// The Go code in wire/ is generated from this file (see gen.go).

namespace go wire

// ThriftEventBundle carries eventNum events. For each event the sender
// appends its stream id to stringAttributeList and its timestamp to
// longAttributeList, then each attribute value to the list of its type in
// definition order (meta, correlation, payload); FLOAT values travel in
// doubleAttributeList and a null STRING as "_null". arbitraryDataMapMap is
// keyed by the event's index in the bundle.
struct ThriftEventBundle {
    1: optional string sessionId;
    2: optional i32 eventNum;
    3: optional list<i32> intAttributeList;
    4: optional list<i64> longAttributeList;
    5: optional list<double> doubleAttributeList;
    6: optional list<bool> boolAttributeList;
    7: optional list<string> stringAttributeList;
    8: optional map<i32, map<string, string>> arbitraryDataMapMap;
}

exception ThriftStreamDefinitionException {
    1: required string message
}

exception ThriftNoStreamDefinitionExistException {
    1: required string message
}

exception ThriftDifferentStreamDefinitionAlreadyDefinedException {
    1: required string message
}

exception ThriftMalformedStreamDefinitionException {
    1: required string message
}

exception ThriftUndefinedEventTypeException {
    1: required string message
}

exception ThriftSessionExpiredException {
    1: required string message
}

exception ThriftAuthenticationException {
    1: required string message
}

// ThriftEventTransmissionService is served on the plain receiver port.
service ThriftEventTransmissionService {
    string defineStream(1: string sessionId, 2: string streamDefinition)
        throws (1: ThriftDifferentStreamDefinitionAlreadyDefinedException ade,
                2: ThriftMalformedStreamDefinitionException mtd,
                3: ThriftStreamDefinitionException tde,
                4: ThriftSessionExpiredException se),
    string findStreamId(1: string sessionId, 2: string streamName, 3: string streamVersion)
        throws (1: ThriftNoStreamDefinitionExistException tnde,
                2: ThriftSessionExpiredException se),
    void publish(1: ThriftEventBundle eventBundle)
        throws (1: ThriftUndefinedEventTypeException ue,
                2: ThriftSessionExpiredException se),
    bool deleteStreamById(1: string sessionId, 2: string streamId)
        throws (1: ThriftSessionExpiredException se),
    bool deleteStreamByNameVersion(1: string sessionId, 2: string streamName, 3: string streamVersion)
        throws (1: ThriftSessionExpiredException se)
}

// ThriftSecureEventTransmissionService is served on the TLS auth port: the
// stream calls of ThriftEventTransmissionService plus connect and disconnect.
service ThriftSecureEventTransmissionService {
    string connect(1: string userName, 2: string password)
        throws (1: ThriftAuthenticationException ae),
    void disconnect(1: string sessionId),
    string defineStream(1: string sessionId, 2: string streamDefinition)
        throws (1: ThriftDifferentStreamDefinitionAlreadyDefinedException ade,
                2: ThriftMalformedStreamDefinitionException mtd,
                3: ThriftStreamDefinitionException tde,
                4: ThriftSessionExpiredException se),
    string findStreamId(1: string sessionId, 2: string streamName, 3: string streamVersion)
        throws (1: ThriftNoStreamDefinitionExistException tnde,
                2: ThriftSessionExpiredException se),
    void publish(1: ThriftEventBundle eventBundle)
        throws (1: ThriftUndefinedEventTypeException ue,
                2: ThriftSessionExpiredException se),
    bool deleteStreamById(1: string sessionId, 2: string streamId)
        throws (1: ThriftSessionExpiredException se),
    bool deleteStreamByNameVersion(1: string sessionId, 2: string streamName, 3: string streamVersion)
        throws (1: ThriftSessionExpiredException se)
}
