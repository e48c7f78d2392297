import { Field, InputType } from 'type-graphql';
import { GraphQLJSON } from '../graphql/scalars.js';
import { ThemeEnum } from './preferences.type.js';

@InputType({
  description:
    'Preferences to set; those left out keep their value. locale and timezone are cleared by null.',
})
export class PreferencesInput {
  @Field(() => ThemeEnum, { nullable: true })
  theme?: ThemeEnum | null;

  @Field(() => String, {
    nullable: true,
    description: 'A language code with an optional region: en, en-GB, fil-PH.',
  })
  locale?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'An IANA time zone name such as Europe/London.',
  })
  timezone?: string | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'A JSON object, at most 64 KB.' })
  dashboardLayout?: unknown;

  @Field(() => GraphQLJSON, { nullable: true, description: 'A JSON object, at most 64 KB.' })
  widgetPreferences?: unknown;

  @Field(() => GraphQLJSON, { nullable: true, description: 'A JSON object, at most 64 KB.' })
  emailNotifications?: unknown;

  @Field(() => GraphQLJSON, { nullable: true, description: 'A JSON object, at most 64 KB.' })
  pushNotifications?: unknown;
}
