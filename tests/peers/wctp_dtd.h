/*
 * wctp_dtd.h - the WCTP 1.3 DTD for the pager tests (the unit test and
 * the WCTP carrier peer validate every operation against it).
 *
 * Transcribed from wctp-dtd-v1r3.dtd (file-url
 * http://dtd.wctp.org/wctp-dtd-v1r3.dtd, PCIA): the declarations of every
 * element pagegate sends or receives, with their content models and
 * attribute defaults unchanged; wctp-Operation's choice and wctp-Payload
 * are narrowed to those elements.
 */
#ifndef PAGEGATE_TEST_WCTP_DTD_H
#define PAGEGATE_TEST_WCTP_DTD_H

static const char WCTP_DTD[] =
"<!ELEMENT wctp-Operation (wctp-Confirmation | wctp-MessageReply | wctp-PollForMessages\n"
"  | wctp-PollResponse | wctp-StatusInfo | wctp-SubmitRequest)>\n"
"<!ATTLIST wctp-Operation wctpVersion CDATA #REQUIRED wctpToken CDATA #IMPLIED>\n"
"<!ELEMENT wctp-Confirmation (wctp-Failure | wctp-Success)>\n"
"<!ELEMENT wctp-Success (#PCDATA)>\n"
"<!ATTLIST wctp-Success successCode CDATA #REQUIRED successText CDATA #IMPLIED>\n"
"<!ELEMENT wctp-Failure (#PCDATA)>\n"
"<!ATTLIST wctp-Failure errorCode CDATA #REQUIRED errorText CDATA #IMPLIED>\n"
"<!ELEMENT wctp-MessageReply (wctp-ResponseHeader, wctp-Payload)>\n"
"<!ATTLIST wctp-MessageReply MCRMessageReply (true | false) \"false\">\n"
"<!ELEMENT wctp-ResponseHeader (wctp-Originator, wctp-MessageControl, wctp-Recipient)>\n"
"<!ATTLIST wctp-ResponseHeader responseToMessageID CDATA #REQUIRED\n"
"  responseTimestamp CDATA #IMPLIED respondingToTimestamp CDATA #IMPLIED\n"
"  onBehalfOfRecipientID CDATA #IMPLIED>\n"
"<!ELEMENT wctp-PollForMessages (wctp-MessageReceived*)>\n"
"<!ATTLIST wctp-PollForMessages pollerID CDATA #REQUIRED securityCode CDATA #IMPLIED\n"
"  maxMessagesInBatch CDATA #IMPLIED>\n"
"<!ELEMENT wctp-MessageReceived (wctp-Failure | wctp-Success)>\n"
"<!ATTLIST wctp-MessageReceived sequenceNo CDATA #REQUIRED>\n"
"<!ELEMENT wctp-PollResponse (wctp-Message+ | wctp-Failure | wctp-NoMessages)>\n"
"<!ATTLIST wctp-PollResponse minNextPollInterval CDATA #IMPLIED>\n"
"<!ELEMENT wctp-Message (wctp-SubmitRequest | wctp-MessageReply | wctp-StatusInfo)>\n"
"<!ATTLIST wctp-Message sequenceNo CDATA #REQUIRED>\n"
"<!ELEMENT wctp-NoMessages EMPTY>\n"
"<!ELEMENT wctp-StatusInfo (wctp-ResponseHeader, (wctp-Failure | wctp-Notification))>\n"
"<!ELEMENT wctp-Notification EMPTY>\n"
"<!ATTLIST wctp-Notification type (QUEUED | DELIVERED | READ) #REQUIRED>\n"
"<!ELEMENT wctp-SubmitRequest (wctp-SubmitHeader, wctp-Payload)>\n"
"<!ELEMENT wctp-SubmitHeader (wctp-Originator, wctp-MessageControl, wctp-Recipient)>\n"
"<!ATTLIST wctp-SubmitHeader submitTimestamp CDATA #IMPLIED>\n"
"<!ELEMENT wctp-Originator EMPTY>\n"
"<!ATTLIST wctp-Originator senderID CDATA #REQUIRED securityCode CDATA #IMPLIED\n"
"  miscInfo CDATA #IMPLIED>\n"
"<!ELEMENT wctp-MessageControl EMPTY>\n"
"<!ATTLIST wctp-MessageControl messageID CDATA #REQUIRED transactionID CDATA #IMPLIED\n"
"  sendResponsesToID CDATA #IMPLIED allowResponse (true | false) \"true\"\n"
"  notifyWhenQueued (true | false) \"false\" notifyWhenDelivered (true | false) \"false\"\n"
"  notifyWhenRead (true | false) \"false\" deliveryPriority (HIGH | NORMAL | LOW) \"NORMAL\"\n"
"  deliveryAfter CDATA #IMPLIED deliveryBefore CDATA #IMPLIED\n"
"  preformatted (true | false) \"false\" allowTruncation (true | false) \"true\">\n"
"<!ELEMENT wctp-Recipient EMPTY>\n"
"<!ATTLIST wctp-Recipient recipientID CDATA #REQUIRED authorizationCode CDATA #IMPLIED>\n"
"<!ELEMENT wctp-Payload (wctp-Alphanumeric | wctp-TransparentData)>\n"
"<!ELEMENT wctp-Alphanumeric (#PCDATA)>\n"
"<!ELEMENT wctp-TransparentData (#PCDATA)>\n"
"<!ATTLIST wctp-TransparentData type (OPAQUE | FLEXSuite | FLEXsuite) \"OPAQUE\"\n"
"  encoding (standard | base64) \"base64\">\n";


#endif
